"""Writes a small .npy file without NumPy: write_npy.py FILE DTYPE SHAPE VALUES

DTYPE is a NumPy descr such as '<f8', '<f4' or '<i8'; SHAPE and VALUES are
comma-separated ("3" and "0,1,2"). Used by the driver tests, which must not
depend on NumPy being installed.
"""
import struct
import sys

FORMATS = {"<f8": "d", "<f4": "f", "<i8": "q", "<i4": "i"}


def main():
    path, descr, shape_text, values_text = sys.argv[1:5]
    shape = [int(s) for s in shape_text.split(",") if s]
    values = [float(v) if descr[1] == "f" else int(v)
              for v in values_text.split(",") if v]
    shape_repr = "(" + ", ".join(str(s) for s in shape) + \
        ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (
        descr, shape_repr)
    # Pad so that the data starts on a 64-byte boundary, as NumPy does.
    padding = (64 - (10 + len(header) + 1) % 64) % 64
    header += " " * padding + "\n"
    with open(path, "wb") as out:
        out.write(b"\x93NUMPY\x01\x00")
        out.write(struct.pack("<H", len(header)))
        out.write(header.encode("latin1"))
        out.write(struct.pack("<%d%s" % (len(values), FORMATS[descr]), *values))


if __name__ == "__main__":
    main()
