// edges.h - the edges of a Matrix Market file, for the experiments here
//
// Entry (i, j) (1-based) is the edge j -> i, as in ../shared/data; a
// `symmetric` file stores each undirected edge once, and both directions
// are returned.

#ifndef GRADE_BENCH_EXPERIMENTS_EDGES_H
#define GRADE_BENCH_EXPERIMENTS_EDGES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  long n, e;      ///< nodes, directed edges
  long *src, *dst; ///< 0-based, e of each
} Edges;

/// Reads `path`; on a bad file prints "TOOL: PATH: why" and exits with 1.
static Edges readEdges(const char *tool, const char *path) {
  FILE *file = fopen(path, "r");
  if (!file) {
    fprintf(stderr, "%s: cannot open %s\n", tool, path);
    exit(1);
  }
  char line[512];
  long rows = 0, cols = 0, entries = -1;
  int symmetric = fgets(line, sizeof line, file) && strstr(line, "symmetric");
  while (fgets(line, sizeof line, file))
    if (line[0] != '%' &&
        sscanf(line, "%ld %ld %ld", &rows, &cols, &entries) == 3)
      break;
  if (entries < 0 || rows <= 0 || rows != cols) {
    fprintf(stderr, "%s: %s: no square Matrix Market header\n", tool, path);
    exit(1);
  }
  Edges g = {rows, 0, malloc(sizeof(long) * 2 * (size_t)entries),
             malloc(sizeof(long) * 2 * (size_t)entries)};
  long read = 0;
  while (read < entries && fgets(line, sizeof line, file)) {
    long i, j;
    if (line[0] == '%' || sscanf(line, "%ld %ld", &i, &j) != 2)
      continue;
    if (i < 1 || i > g.n || j < 1 || j > g.n) {
      fprintf(stderr, "%s: %s: entry %ld out of range\n", tool, path,
              read + 1);
      exit(1);
    }
    ++read;
    g.dst[g.e] = i - 1;
    g.src[g.e++] = j - 1;
    if (symmetric && i != j) {
      g.dst[g.e] = j - 1;
      g.src[g.e++] = i - 1;
    }
  }
  fclose(file);
  return g;
}

/// `TOOL EDGES.mtx [ROUNDS]`: the edges, and the rounds (default 5).
static Edges edgesFromArguments(const char *tool, int argc, char **argv,
                                int *rounds) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s EDGES.mtx [ROUNDS]\n", tool);
    exit(2);
  }
  *rounds = argc > 2 ? atoi(argv[2]) : 5;
  if (*rounds < 1) {
    fprintf(stderr, "%s: ROUNDS must be a positive number\n", tool);
    exit(2);
  }
  return readEdges(tool, argv[1]);
}

#endif // GRADE_BENCH_EXPERIMENTS_EDGES_H
