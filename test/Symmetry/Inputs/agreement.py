"""The compile-time proof against the numerical check, model by model.

For every model of a directory: whether gradec accepts it (the proof), and
whether `gradec check-symmetry --no-proof` (the declared laws, unproven)
finds it equivariant. Prints one line per model and `agree` or
`DISAGREE`.

usage: agreement.py GRADEC DIR GRAPH WORKDIR
"""
import os
import re
import subprocess
import sys


def main():
    gradec, directory, graph, work = sys.argv[1:5]
    models = sorted(f for f in os.listdir(directory) if f.endswith('.grade'))
    if not models:
        sys.exit('no models in ' + directory)
    for model in models:
        path = os.path.join(directory, model)
        library = os.path.join(work, model + '.so')
        proof = subprocess.run([gradec, path, '-o', library],
                               capture_output=True, text=True)
        accepted = proof.returncode == 0
        check = subprocess.run(
            [gradec, 'check-symmetry', path, '--no-proof', '--graph', graph],
            capture_output=True, text=True)
        found = re.search(r'largest difference (\S+) \(relative.*: '
                          r'(equivariant|NOT equivariant)', check.stdout)
        if not found:
            sys.exit('%s: check-symmetry failed:\n%s%s' %
                     (model, check.stdout, check.stderr))
        difference, verdict = float(found.group(1)), found.group(2)
        equivariant = verdict == 'equivariant'
        print('%s: compiler %s, check-symmetry %s (largest difference %.1e): '
              '%s' % (model[:-6], 'accepts' if accepted else 'rejects',
                      verdict, difference,
                      'agree' if accepted == equivariant else 'DISAGREE'))


if __name__ == '__main__':
    main()
