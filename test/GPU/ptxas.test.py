"""Compiles every example to PTX for sm_80 and sm_90 and assembles each image
with ptxas -v; prints counts and the spill bytes (lit: ptxas.test)."""
import glob
import os
import re
import subprocess
import sys

examples, out, ptxas = sys.argv[1:4]
images = kernels = failures = 0
spills = {}
models = sorted(glob.glob(os.path.join(examples, "*.grade")))
for model in models:
    name = os.path.splitext(os.path.basename(model))[0]
    run = subprocess.run(["gradec", model, "--target=cuda:sm_80,sm_90",
                          "--emit=ptx"], capture_output=True, text=True)
    if run.returncode:
        print("FAIL compile", name, run.stderr[:400])
        failures += 1
        continue
    parts = re.split(r"^// ----- PTX of @gradegen_kernels for (sm_\d+)\n",
                     run.stdout, flags=re.M)[1:]
    if len(parts) != 4:
        print("FAIL", name, "has", len(parts) // 2, "images, not 2")
        failures += 1
    for chip, text in zip(parts[0::2], parts[1::2]):
        images += 1
        path = os.path.join(out, "%s.%s.ptx" % (name, chip))
        with open(path, "w") as f:
            f.write(text)
        asm = subprocess.run([ptxas, "-arch=" + chip, "-v", path, "-o",
                              path + ".cubin"], capture_output=True, text=True)
        if asm.returncode or ".target " + chip not in text:
            print("FAIL ptxas", name, chip, asm.stderr[:400])
            failures += 1
            continue
        entries = len(re.findall(r"^\.visible \.entry ", text, flags=re.M))
        compiled = len(re.findall(r"Compiling entry function", asm.stderr))
        if entries == 0 or entries != compiled:
            print("FAIL", name, chip, "entries", entries, "compiled", compiled)
            failures += 1
        kernels += entries
        spills[name] = spills.get(name, 0) + sum(
            int(b) for b in re.findall(r"(\d+) bytes spill stores", asm.stderr))
print("examples: %d, images: %d, kernels: %d, failures: %d"
      % (len(models), images, kernels, failures))
print("spills outside egnn and grand_pp: %d"
      % sum(v for k, v in spills.items() if k not in ("egnn", "grand_pp")))
print("egnn spill stores: %d bytes" % spills.get("egnn", 0))
print("grand_pp spill stores: %d bytes" % spills.get("grand_pp", 0))
