/* ova — optimal assignment. SPDX-License-Identifier: MIT
 *
 * Shortest augmenting paths with dual potentials (the Jonker–Volgenant /
 * Kuhn–Munkres family, O(r^2 c)). A cost limit is handled without building a
 * larger matrix: every row also owns a virtual "stay unassigned" column of
 * cost @cost_limit, which turns min sum(cost) with optional pairs into a
 * plain rectangular assignment (the minimum equals min sum(cost - limit)
 * over admissible pairs, plus a constant).
 */
#include "ova-config.h"
#include <ova/track.h>
#include <math.h>
#include <string.h>

typedef struct {
  const gdouble *cost;
  guint n_rows, n_cols; /* of the caller's matrix */
  gboolean transposed;  /* solver rows are the caller's columns */
  gboolean limited;
  gdouble limit, inadmissible;
  guint r, c;           /* solver rows, real solver columns (virtual ones follow) */
} Problem;

static inline gdouble
entry (const Problem *p, guint i, guint j) /* 0-based solver row i, column j */
{
  gdouble v;
  if (j >= p->c)                      /* a virtual "unassigned" column */
    return p->limit;
  v = p->transposed ? p->cost[(gsize) j * p->n_cols + i] : p->cost[(gsize) i * p->n_cols + j];
  if (p->limited && !(v <= p->limit)) /* also catches NaN */
    return p->inadmissible;
  if (!p->limited && isnan (v))
    return p->inadmissible;
  return v;
}

guint
ova_assignment_solve (const gdouble *cost, guint n_rows, guint n_cols, gdouble cost_limit,
    gint *row_to_col, gint *col_to_row)
{
  Problem p = { cost, n_rows, n_cols, FALSE, FALSE, cost_limit, 0, 0, 0 };
  guint m, n_pairs = 0;
  gdouble *a, *u, *v, *minv, big = 0;
  gint *match, *way;
  guint *todo, *done;

  for (guint i = 0; i < n_rows; i++) row_to_col[i] = -1;
  if (col_to_row)
    for (guint j = 0; j < n_cols; j++) col_to_row[j] = -1;
  if (n_rows == 0 || n_cols == 0)
    return 0;

  p.limited = isfinite (cost_limit);
  p.transposed = n_rows > n_cols;
  p.r = p.transposed ? n_cols : n_rows;
  p.c = p.transposed ? n_rows : n_cols;
  m = p.c + (p.limited ? p.r : 0);

  /* A value worse than any admissible choice, yet finite (potentials subtract). */
  for (gsize k = 0; k < (gsize) n_rows * n_cols; k++) {
    gdouble a = fabs (cost[k]);
    if (isfinite (a) && (!p.limited || cost[k] <= cost_limit) && a > big)
      big = a;
  }
  if (p.limited && fabs (cost_limit) > big)
    big = fabs (cost_limit);
  p.inadmissible = 4.0 * big + 1.0;
  if (!p.limited) /* every row must be assigned: make forbidden pairs a last resort */
    p.inadmissible = (4.0 * big + 1.0) * (p.r + 1);

  /* The solver's own dense matrix (rows x m, with the virtual columns and
   * substitutions applied) keeps the inner loops branch-free. */
  a = g_new (gdouble, (gsize) p.r * m);
  for (guint i = 0; i < p.r; i++)
    for (guint j = 0; j < m; j++)
      a[(gsize) i * m + j] = entry (&p, i, j);

  /* Shortest augmenting path from each row in turn (Dijkstra on reduced
   * costs); columns are 1-based, column 0 is the root. Only the columns not
   * yet reached are scanned, and only the reached ones have their
   * potentials moved. */
  u = g_new0 (gdouble, p.r + 1);
  v = g_new0 (gdouble, m + 1);
  minv = g_new (gdouble, m + 1);
  match = g_new0 (gint, m + 1);   /* solver row (1-based) holding column j, 0 = free */
  way = g_new0 (gint, m + 1);
  todo = g_new (guint, m);
  done = g_new (guint, m + 1);

  for (guint i = 1; i <= p.r; i++) {
    guint j0 = 0, n_todo = m, n_done = 0;
    match[0] = i;
    for (guint j = 0; j < m; j++) { todo[j] = j + 1; minv[j + 1] = INFINITY; }
    done[n_done++] = 0;
    do {
      guint i0 = match[j0], k1 = 0, j1;
      const gdouble *row = a + (gsize) (i0 - 1) * m - 1; /* row[j] for 1-based j */
      gdouble delta = INFINITY, ui = u[i0];
      for (guint k = 0; k < n_todo; k++) {
        guint j = todo[k];
        gdouble cur = row[j] - ui - v[j];
        if (cur < minv[j]) { minv[j] = cur; way[j] = j0; }
        if (minv[j] < delta) { delta = minv[j]; k1 = k; }
      }
      j1 = todo[k1];
      for (guint k = 0; k < n_done; k++) {
        guint j = done[k];
        u[match[j]] += delta;
        v[j] -= delta;
      }
      for (guint k = 0; k < n_todo; k++) minv[todo[k]] -= delta;
      todo[k1] = todo[--n_todo];
      done[n_done++] = j1;
      j0 = j1;
    } while (match[j0] != 0);
    do { guint j1 = way[j0]; match[j0] = match[j1]; j0 = j1; } while (j0);
  }

  for (guint j = 1; j <= p.c; j++) {
    guint i = match[j];
    gint row, col;
    if (!i) continue;
    if (a[(gsize) (i - 1) * m + (j - 1)] == p.inadmissible)
      continue;
    row = p.transposed ? (gint) j - 1 : (gint) i - 1;
    col = p.transposed ? (gint) i - 1 : (gint) j - 1;
    row_to_col[row] = col;
    if (col_to_row) col_to_row[col] = row;
    n_pairs++;
  }

  g_free (a); g_free (u); g_free (v); g_free (minv); g_free (match); g_free (way); g_free (todo); g_free (done);
  return n_pairs;
}
