"""gradec check-symmetry on every example model.

Runs the check on each examples/*.grade (random inputs, random group
elements, a random graph) and prints, per model, its groups and the
verdict line.

usage: examples.py GRADEC EXAMPLES_DIR GRAPH

GRAPH is used for the models that name no graph of their own.
"""
import os
import re
import subprocess
import sys


def main():
    gradec, directory, graph = sys.argv[1:4]
    models = sorted(f for f in os.listdir(directory) if f.endswith('.grade'))
    for model in models:
        path = os.path.join(directory, model)
        # A model that names its graph (a grid) runs on it: its point
        # transformations are checked there.
        with open(path) as f:
            own = re.search(r'^\s*graph\s+\w+\s*=', f.read(), re.M)
        check = subprocess.run(
            [gradec, 'check-symmetry', path] + ([] if own else
                                                ['--graph', graph]),
            capture_output=True, text=True)
        header = re.search(r"model '\w+' \((.*)\) on", check.stdout)
        verdict = re.search(r'largest difference (\S+) .*tolerance (\S+): '
                            r'(.*)$', check.stdout, re.M)
        if check.returncode not in (0, 1) or not header or not verdict:
            sys.exit('%s: check-symmetry failed:\n%s%s' %
                     (model, check.stdout, check.stderr))
        kinds = re.findall(r'^  (\w[\w ]*?) +largest difference', check.stdout,
                           re.M)
        for lie in re.findall(r'^  (\w+) +point transformation .*: (.*)$',
                              check.stdout, re.M):
            kinds.append('%s: %s' % lie)
        print('%s (%s; %s): %s, largest difference %.1e (tolerance %s)' %
              (model[:-6], header.group(1), ', '.join(kinds), verdict.group(3),
               float(verdict.group(1)), verdict.group(2)))


if __name__ == '__main__':
    main()
