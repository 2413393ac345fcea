#!/usr/bin/env python3
# tests/integration/sandbox_watch.py - watches a running `kura serve`
# (t64-serve-sandbox.sh): its sessions (children of the listener) and the
# validators they fork. Writes KEY=VALUE lines to OUT when done.
#
#   sandbox_watch.py LISTENER_PID OUT SECONDS [kill|stop|killsession]
#
# Ends when STOPFILE (OUT + ".stop") exists or after SECONDS. With "kill",
# every confined validator seen is killed with SIGKILL; with "stop", it is
# stopped (SIGSTOP), as a validator that hangs; with "killsession", its
# session is killed with SIGKILL instead.
import os
import signal
import sys
import time


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces or parentheses
        rest = st[st.rfind(")") + 2:].split()
        if int(rest[1]) == pid:
            out.append(int(d))
    return out


def status(pid):
    res = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                res[k] = v.strip()
    except OSError:
        return None
    return res


def fds(pid):
    res = []
    try:
        for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
            try:
                res.append("%s:%s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
            except OSError:
                pass
    except OSError:
        return None
    return res


def limits(pid):
    res = {}
    try:
        with open("/proc/%d/limits" % pid) as f:
            for line in f.readlines()[1:]:
                name = line[:26].strip()
                soft = line[26:47].strip()
                res[name] = soft
    except OSError:
        return None
    return res


def kb(v):
    return int(v.split()[0]) if v else 0


def main():
    lpid, out, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    act = sys.argv[4] if len(sys.argv) > 4 else ""
    sig = {"kill": signal.SIGKILL, "stop": signal.SIGSTOP}.get(act)
    stop = out + ".stop"
    end = time.time() + secs
    seen = {}            # validator pid -> first confined snapshot
    sess_hwm = 0         # highest session VmHWM (kB)
    val_hwm = 0          # highest validator VmHWM (kB)
    most = 0             # validators alive at once
    sess_memfd = False   # a session held a memfd (the old design)
    killed = 0
    while time.time() < end and not os.path.exists(stop):
        alive = 0
        for s in children(lpid):
            st = status(s)
            if st is None:
                continue
            sess_hwm = max(sess_hwm, kb(st.get("VmHWM")))
            for f in fds(s) or []:
                if "memfd:" in f:
                    sess_memfd = True
            for v in children(s):
                vs = status(v)
                if vs is None:
                    continue
                alive += 1
                val_hwm = max(val_hwm, kb(vs.get("VmHWM")))
                if v in seen or vs.get("Seccomp") != "2":
                    continue
                seen[v] = {
                    "status": vs,
                    "fds": fds(v),
                    "limits": limits(v),
                }
                if act == "killsession":
                    os.kill(s, signal.SIGKILL)
                    killed += 1
                elif sig is not None:
                    os.kill(v, sig)
                    killed += 1
        most = max(most, alive)
        time.sleep(0.01)
    with open(out, "w") as f:
        f.write("validators=%d\n" % len(seen))
        f.write("most_at_once=%d\n" % most)
        f.write("session_hwm_kb=%d\n" % sess_hwm)
        f.write("validator_hwm_kb=%d\n" % val_hwm)
        f.write("session_memfd=%d\n" % (1 if sess_memfd else 0))
        f.write("killed=%d\n" % killed)
        if seen:
            first = seen[sorted(seen)[0]]
            st, lim = first["status"], first["limits"] or {}
            f.write("seccomp=%s\n" % st.get("Seccomp", "?"))
            f.write("nonewprivs=%s\n" % st.get("NoNewPrivs", "?"))
            f.write("fds=%s\n" % " ".join(first["fds"] or ["?"]))
            for k, name in (("nofile", "Max open files"),
                            ("fsize", "Max file size"),
                            ("core", "Max core file size"),
                            ("cpu", "Max cpu time"),
                            ("as", "Max address space")):
                f.write("%s=%s\n" % (k, lim.get(name, "?")))


if __name__ == "__main__":
    main()
