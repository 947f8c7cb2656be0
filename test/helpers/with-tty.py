"""Runs a command with a pseudo-terminal as its controlling terminal, and
stdin/stdout/stderr left as they are (so a test reads them apart). Whatever
the command writes to /dev/tty is collected; when it contains the prompt
text, ANSWER and a newline are typed. Prints the terminal transcript to fd 3
(if open) and exits with the command's status.

usage: with-tty.py PROMPT ANSWER -- command [args...]
"""
import os, sys, select, fcntl, termios, time

def main():
    prompt, answer = sys.argv[1].encode(), sys.argv[2].encode()
    cmd = sys.argv[sys.argv.index("--") + 1:]
    master, slave = os.openpty()
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        os.close(slave)
        os.execvp(cmd[0], cmd)
    # The slave stays open here until the command ends: with no slave open, reads of the master fail (EIO).
    seen, typed, deadline = b"", False, time.time() + 60
    done, status = 0, 0
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.2)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            seen += chunk
            if not typed and prompt in seen:
                os.write(master, answer + b"\n")
                typed = True
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            while select.select([master], [], [], 0)[0]:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
            break
    else:
        os.kill(pid, 9)
        done, status = os.waitpid(pid, 0)
    if not done:
        _, status = os.waitpid(pid, 0)
    try:
        os.write(3, seen)
    except OSError:
        pass
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)

main()
