/* ova — the assignment solver against brute force on random small matrices. SPDX-License-Identifier: MIT */
#include <ova/track.h>
#include <math.h>

/* Best value of sum(cost - limit) over all partial matchings using admissible
 * pairs (cost <= limit); with an infinite limit, of sum(cost) over matchings
 * of min(n, m) pairs. Exhaustive recursion over rows. */
static gdouble
brute (const gdouble *c, guint n, guint m, gdouble limit, guint row, guint64 used_cols, guint pairs_left)
{
  gboolean limited = isfinite (limit);
  gdouble best = INFINITY;
  if (row == n)
    return (!limited && pairs_left > 0) ? INFINITY : 0.0;
  /* leave the row unassigned: always allowed with a limit; without one only
   * while enough rows remain to fill the required pairs */
  if (limited || n - row > pairs_left)
    best = brute (c, n, m, limit, row + 1, used_cols, pairs_left);
  for (guint j = 0; j < m; j++) {
    gdouble v = c[row * m + j], sub;
    if (used_cols & (1ull << j)) continue;
    if (limited && !(v <= limit)) continue;
    if (!limited && isnan (v)) continue;
    if (!limited && pairs_left == 0) continue;
    sub = brute (c, n, m, limit, row + 1, used_cols | (1ull << j), pairs_left ? pairs_left - 1 : 0);
    if (isfinite (sub) && (limited ? v - limit : v) + sub < best)
      best = (limited ? v - limit : v) + sub;
  }
  return best;
}

static void
check_one (GRand *r, guint n, guint m, gboolean limited, gboolean holes)
{
  gdouble c[64], limit = limited ? g_rand_double_range (r, 0.2, 0.9) : INFINITY, got = 0, want;
  gint r2c[8], c2r[8];
  guint pairs, count = 0;
  for (guint k = 0; k < n * m; k++) {
    c[k] = g_rand_double (r);
    if (g_rand_int_range (r, 0, 5) == 0) c[k] = floor (c[k] * 4) / 4; /* ties */
    if (holes && g_rand_int_range (r, 0, 4) == 0) c[k] = limited ? INFINITY : NAN;
  }
  pairs = ova_assignment_solve (c, n, m, limit, r2c, c2r);
  for (guint i = 0; i < n; i++) {
    if (r2c[i] < 0) continue;
    g_assert_cmpint (r2c[i], <, (gint) m);
    g_assert_cmpint (c2r[r2c[i]], ==, (gint) i);
    if (limited) g_assert_cmpfloat (c[i * m + r2c[i]], <=, limit);
    got += limited ? c[i * m + r2c[i]] - limit : c[i * m + r2c[i]];
    count++;
  }
  for (guint j = 0; j < m; j++)
    if (c2r[j] >= 0) g_assert_cmpint (r2c[c2r[j]], ==, (gint) j);
  g_assert_cmpuint (pairs, ==, count);
  if (!limited && !holes)
    g_assert_cmpuint (count, ==, MIN (n, m));
  if (!limited && holes) {
    /* pairs over NaN are dropped; the rest must still be optimal among
     * matchings that avoid NaN: compare on the brute force's terms when it
     * can fill min(n, m) pairs, otherwise just check validity */
    want = brute (c, n, m, limit, 0, 0, MIN (n, m));
    if (isfinite (want)) {
      g_assert_cmpuint (count, ==, MIN (n, m));
      g_assert_cmpfloat (fabs (got - want), <, 1e-9);
    }
    return;
  }
  want = brute (c, n, m, limit, 0, 0, MIN (n, m));
  if (fabs (got - want) > 1e-9)
    g_error ("n=%u m=%u limit=%g: solver %.12g, brute force %.12g", n, m, limit, got, want);
}

static void
test_random (void)
{
  GRand *r = g_rand_new_with_seed (42);
  guint n_cases = 0;
  for (guint iter = 0; iter < 400; iter++)
    for (guint n = 1; n <= 6; n++)
      for (guint m = 1; m <= 6; m += (iter % 2) + 1) {
        check_one (r, n, m, iter % 2 == 0, iter % 3 == 0);
        n_cases++;
      }
  g_test_message ("%u random matrices checked", n_cases);
  g_rand_free (r);
}

static void
test_known (void)
{
  /* classic 3x3: optimum 5 (0->1, 1->0, 2->2) */
  const gdouble c[9] = { 4, 1, 3, 2, 0, 5, 3, 2, 2 };
  gint r2c[3];
  g_assert_cmpuint (ova_assignment_solve (c, 3, 3, INFINITY, r2c, NULL), ==, 3);
  g_assert_cmpint (r2c[0], ==, 1);
  g_assert_cmpint (r2c[1], ==, 0);
  g_assert_cmpint (r2c[2], ==, 2);
  /* with a limit of 1.5 only pairs (0,1) and (1,1) are admissible: one pair, the cheaper */
  g_assert_cmpuint (ova_assignment_solve (c, 3, 3, 1.5, r2c, NULL), ==, 1);
  g_assert_cmpint (r2c[1], ==, 1);
  g_assert_cmpint (r2c[0], ==, -1);
  /* empty */
  g_assert_cmpuint (ova_assignment_solve (c, 0, 3, INFINITY, r2c, NULL), ==, 0);
}

static void
test_large_vs_greedy_free (void)
{
  /* a permutation matrix in disguise: cost 0 on a random permutation, 1 elsewhere */
  const guint n = 200;
  gdouble *c = g_new (gdouble, n * n);
  gint *perm = g_new (gint, n), *r2c = g_new (gint, n);
  GRand *r = g_rand_new_with_seed (7);
  for (guint i = 0; i < n; i++) perm[i] = i;
  for (guint i = n - 1; i > 0; i--) {
    guint j = g_rand_int_range (r, 0, i + 1);
    gint t = perm[i]; perm[i] = perm[j]; perm[j] = t;
  }
  for (guint k = 0; k < n * n; k++) c[k] = 1;
  for (guint i = 0; i < n; i++) c[i * n + perm[i]] = 0;
  g_assert_cmpuint (ova_assignment_solve (c, n, n, 0.5, r2c, NULL), ==, n);
  for (guint i = 0; i < n; i++) g_assert_cmpint (r2c[i], ==, perm[i]);
  g_free (c); g_free (perm); g_free (r2c);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/track/assignment/known", test_known);
  g_test_add_func ("/track/assignment/random-vs-brute-force", test_random);
  g_test_add_func ("/track/assignment/permutation-200", test_large_vs_greedy_free);
  return g_test_run ();
}
