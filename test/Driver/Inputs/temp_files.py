"""temp_files.py GRADEC WORKDIR MODEL X0: gradec's temporary files (the
object file and the library of `gradec run`, both in $TMPDIR) and its
partial outputs are removed on every exit path: a failed object write, a
fatal signal, and SIGINT in the middle of a run. Prints what it saw for
FileCheck."""
import os
import resource
import signal
import subprocess
import sys
import time

gradec, work, model, x0 = sys.argv[1:5]


def fresh(name):
    path = os.path.join(work, name)
    os.makedirs(path)
    return path


def file_size_limit(ignore_signal):
    """A 4 KiB file-size limit: the object file cannot be written."""
    def apply():
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        if ignore_signal:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    return apply


def report(label, proc_rc, stderr, dirs):
    print("%s: rc %d" % (label, proc_rc))
    for line in stderr.splitlines():
        print("%s: stderr: %s" % (label, line))
    for name, path in dirs:
        print("%s: %s holds %s" % (label, name, sorted(os.listdir(path))))


# 1. A failed object write (EFBIG with SIGXFSZ ignored, as on a full disk):
#    a located error, and neither the object file nor a partial library.
for label, ignore in (("efbig", True), ("sigxfsz", False)):
    tmp, out = fresh(label + "-tmp"), fresh(label + "-out")
    proc = subprocess.run([gradec, model, "-o", os.path.join(out, "libm.so")],
                          env=dict(os.environ, TMPDIR=tmp),
                          preexec_fn=file_size_limit(ignore),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    # 2. Without the signal ignored, SIGXFSZ kills gradec: only its exit
    #    status and the directories are stable enough to check.
    stderr = proc.stderr if ignore else ""
    report(label, proc.returncode, stderr, (("TMPDIR", tmp), ("out", out)))

# 3. SIGINT while `gradec run` integrates a compiled model (its library is
#    then a temporary file, loaded): the library is removed.
tmp, out = fresh("sigint-tmp"), fresh("sigint-out")
proc = subprocess.Popen(
    [gradec, "run", model, "--graph", "gen:path:3", "--input", "x0=" + x0,
     "--t1", "1e12", "--progress-interval=0.2",
     "--output", "x=" + os.path.join(out, "x.npy")],
    env=dict(os.environ, TMPDIR=tmp), stdout=subprocess.PIPE,
    stderr=subprocess.PIPE, universal_newlines=True,
    # The test runner may ignore SIGINT in its children; gradec must see
    # the default disposition, as under an interactive shell.
    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
# The first progress line means the library is built, loaded and running.
first = proc.stderr.readline()
during = sorted(os.listdir(tmp))
print("sigint: running: %s" % ("yes" if first.startswith("gradec: step")
                               else "no: " + first))
print("sigint: TMPDIR during the run holds %d file(s) named %s" % (
    len(during), ["grade-run-*.so" if n.startswith("grade-run-") and
                  n.endswith(".so") else n for n in during]))
proc.send_signal(signal.SIGINT)
try:
    proc.wait(timeout=60)
except subprocess.TimeoutExpired:
    proc.kill()
    proc.wait()
    print("sigint: did not stop")
report("sigint", proc.returncode, "", (("TMPDIR", tmp), ("out", out)))

# 4. A signal in the middle of writing an output (SIGXFSZ from a file-size
#    limit that the 8 MB output exceeds, the library being precompiled):
#    the runtime's temporary output file is removed too (gradec registers
#    it with the signal handlers through grade_set_temp_file_hooks), and the
#    previous output stays as it was.
tmp, out = fresh("output-tmp"), fresh("output-out")
lib = os.path.join(out, "libheat.so")
subprocess.run([gradec, model, "-o", lib], check=True)
big = os.path.join(out, "x0big.npy")
with open(big, "wb") as f:
    n = 1000000
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % n
    header += " " * (127 - 10 - len(header)) + "\n"
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") +
            header.encode("latin1") + b"\x00" * (8 * n))
previous = os.path.join(out, "x.npy")
with open(previous, "w") as f:
    f.write("the previous output")


def output_limit():
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))


proc = subprocess.run(
    [gradec, "run", lib, "--graph", "gen:path:%d" % n, "--input",
     "x0=" + big, "--t1", "0.01", "--output", "x=" + previous],
    env=dict(os.environ, TMPDIR=tmp), preexec_fn=output_limit,
    stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
report("output", proc.returncode, "", (("TMPDIR", tmp), ("out", out)))
with open(previous) as f:
    print("output: the previous x.npy is %s" %
          ("intact" if f.read() == "the previous output" else "changed"))
