import json, os, shutil, subprocess, sys

gradec, model, tmp = sys.argv[1:4]
folder = os.path.join(tmp, 'odd\nname "quoted" \\ dir')
os.makedirs(folder)
source = os.path.join(folder, "heat.grade")
shutil.copy(model, source)
lib = os.path.join(tmp, "libheat.so")
subprocess.run([gradec, source, "-o", lib], check=True)
info = json.loads(subprocess.run([gradec, "info", lib], check=True,
                                 stdout=subprocess.PIPE).stdout)
print("source round-trips:", info["source"] == source)
print("model %s, %d fields" % (info["name"], len(info["fields"])))
