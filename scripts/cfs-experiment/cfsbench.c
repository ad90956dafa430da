// cfsbench: a bulk-synchronous program under CFS bandwidth control.
//
// G "nodes", each a group of R rank processes placed in its own CPU cgroup,
// run S steps; in each step every rank burns C ms of its own CPU time
// (CLOCK_THREAD_CPUTIME_ID, so the work is the same whatever else runs) and
// then waits at a barrier shared by all G*R ranks, busy-polling on shared
// memory as an MPI rank polls its network queue. The wall time of the S steps
// is measured from the moment the first barrier opens to the moment the last
// one does, each taken by the rank that opened it (the one running then).
//
// Every rank logs the gaps in its own progress longer than 1 ms (times it was
// not running: throttled); the end of a gap is when its group's quota came
// back, so the gap ends modulo the period give each group's period phase.
//
// usage: cfsbench [-b] -g G -r R -s S -c C_MS -p PERIOD_US [-w WARMUP_MS]
//                 [-q QUOTA_US (-o OFFSET_MS,... | -O SEED)] PROCS_FILE...
//
// -b binds rank k to CPU k mod the CPUs (as mpirun --bind-to core does);
// -O draws the offsets from SEED (see draw).
//
// One PROCS_FILE a group: the cgroup's cgroup.procs (v2) or tasks (v1) file
// the group's ranks write their pid into ("-": no cgroup). With -q and -o or
// -O the program sets each group's quota itself (cpu.max, or v1's
// cpu.cfs_quota_us and cpu.cfs_period_us, beside PROCS_FILE) so that its
// periods start OFFSET ms after a multiple of the period (see setphase). The
// cgroups must be fresh (never limited before).
//
// Output: one line of key=value pairs (wall seconds, steps, per-group phase
// in ms and the mean throttled gap), for scripts/measure-cfs.sh.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXRANKS 16
#define MAXGROUPS 8
#define MAXGAPS 4096

struct gaplog {
	int n;
	double start[MAXGAPS], end[MAXGAPS];
};

struct shared {
	_Atomic int count;
	_Atomic int sense;
	double t_start, t_end;
	struct gaplog gaps[MAXRANKS];
};

static double mono(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cputime(void) {
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const double gap_min = 1e-3;

// tick notes a gap in this rank's progress since *last.
static inline void tick(struct gaplog *g, double *last) {
	double now = mono();
	if (now - *last > gap_min && g->n < MAXGAPS) {
		g->start[g->n] = *last;
		g->end[g->n] = now;
		g->n++;
	}
	*last = now;
}

// compute burns cpu seconds of this process's CPU time.
static void compute(double cpu, struct gaplog *g, double *last) {
	double t0 = cputime();
	while (cputime() - t0 < cpu) {
		for (volatile int i = 0; i < 100; i++)
			;
		tick(g, last);
	}
}

// barrier is a sense-reversing barrier of n ranks; waiters spin. The rank
// that opens it returns 1.
static int barrier(struct shared *sh, int n, int *sense, struct gaplog *g, double *last) {
	*sense = !*sense;
	if (atomic_fetch_add(&sh->count, 1) == n - 1) {
		atomic_store(&sh->count, 0);
		atomic_store(&sh->sense, *sense);
		return 1;
	}
	while (atomic_load_explicit(&sh->sense, memory_order_acquire) != *sense) {
		__builtin_ia32_pause();
		tick(g, last);
	}
	return 0;
}

static void die(const char *msg) {
	fprintf(stderr, "cfsbench: %s\n", msg);
	exit(2);
}

static int writefile(const char *path, const char *val) {
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static void sibling(char *out, size_t size, const char *procs, const char *name) {
	snprintf(out, size, "%s", procs);
	char *slash = strrchr(out, '/');
	if (!slash)
		die("procs file must be a path");
	snprintf(slash + 1, size - (slash + 1 - out), "%s", name);
}

static void sleep_until(double t) {
	for (;;) {
		double d = t - mono();
		if (d <= 0)
			return;
		struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
		nanosleep(&ts, NULL);
	}
}

// setbw sets the cgroup's bandwidth: quota_us every period_us (quota_us < 0:
// no limit), through cgroup v2's cpu.max or v1's cpu.cfs_{quota,period}_us
// beside procs.
static void setbw(const char *procs, long quota_us, long period_us) {
	char f[4096], buf[64];
	sibling(f, sizeof f, procs, "cpu.max");
	if (access(f, W_OK) == 0) {
		if (quota_us < 0)
			snprintf(buf, sizeof buf, "max %ld", period_us);
		else
			snprintf(buf, sizeof buf, "%ld %ld", quota_us, period_us);
		if (writefile(f, buf) != 0)
			die("cannot write cpu.max");
		return;
	}
	char pf[4096];
	sibling(f, sizeof f, procs, "cpu.cfs_quota_us");
	sibling(pf, sizeof pf, procs, "cpu.cfs_period_us");
	snprintf(buf, sizeof buf, "%ld", period_us);
	if (quota_us < 0) {
		if (writefile(f, "-1") != 0 || writefile(pf, buf) != 0)
			die("cannot write cpu.cfs_quota_us or cpu.cfs_period_us");
		return;
	}
	// The period first: with the old quota still set, this write starts
	// the period timer where setphase wants it.
	if (writefile(pf, buf) != 0)
		die("cannot write cpu.cfs_period_us");
	snprintf(buf, sizeof buf, "%ld", quota_us);
	if (writefile(f, buf) != 0)
		die("cannot write cpu.cfs_quota_us");
}

// setphase gives the cgroup of procs quota q_us every period_us, with its
// periods starting offset_ms after a multiple of the period. The kernel
// starts a group's period timer on the grid of its last expiry (hrtimer
// forwarding), so: no limit, then a 1 ms period started at the right moment
// (its timer fires on whole milliseconds and stops after a couple of idle
// periods, the group being empty), then the real period, which continues
// from that last expiry. The phase lands within a millisecond or two; the
// run measures the phase it got.
static void setphase(const char *procs, long q_us, long period_us, double offset_ms) {
	double P = period_us * 1e-6;
	setbw(procs, -1, 1000);
	sleep_until(mono() + 0.01);
	double now = mono();
	double base = floor(now / P) * P + offset_ms * 1e-3 - 2e-3;
	while (base < now + 0.005)
		base += P;
	sleep_until(base);
	setbw(procs, 1000, 1000);
	sleep_until(mono() + 0.02);
	setbw(procs, q_us, period_us);
}

// splitmix is SplitMix64: well-mixed outputs even from consecutive seeds.
static uint64_t splitmix(unsigned long *state) {
	uint64_t z = (*state += 0x9e3779b97f4a7c15UL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
	return z ^ (z >> 31);
}

// draw picks each group's period offset (ms) uniformly from a seeded
// sequence, redrawing until no instant has more ranks running than the
// machine has cores (each group runs R ranks for quota/R of a period), so
// the groups never compete for a core and only the quota limits them.
static void draw(double *off, int G, int R, double quota_ms, double period_ms, unsigned long seed, int bind) {
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (cores > 64)
		cores = 64;
	double a = quota_ms / R;
	if (a > period_ms)
		a = period_ms;
	for (int tries = 0; tries < 100000; tries++) {
		for (int g = 0; g < G; g++)
			off[g] = (double)(splitmix(&seed) >> 11) / 9007199254740992.0 * period_ms;
		// Bound ranks (-b) may not share their core with a running rank;
		// unbound ones may not outnumber the cores.
		int ok = 1;
		for (double t = 0; t < period_ms && ok; t += period_ms / 2000) {
			int running = 0, per[64] = {0};
			for (int g = 0; g < G; g++)
				if (fmod(t - off[g] + period_ms, period_ms) < a + 1.0)
					for (int k = g * R; k < (g + 1) * R; k++) {
						running++;
						if (++per[k % cores] > 1 && bind)
							ok = 0;
					}
			if (running > cores)
				ok = 0;
		}
		if (ok)
			return;
	}
	die("-O: no offsets keep the groups within the cores");
}

int main(int argc, char **argv) {
	int G = 1, R = 1, S = 100, opt;
	double C = 10, warm = 500, period_us = 100000;
	long quota_us = 0;
	char *offsets = NULL;
	unsigned long seed = 0;
	int seeded = 0, bind = 0;
	while ((opt = getopt(argc, argv, "bg:r:s:c:p:w:q:o:O:")) != -1) {
		switch (opt) {
		case 'g': G = atoi(optarg); break;
		case 'r': R = atoi(optarg); break;
		case 's': S = atoi(optarg); break;
		case 'c': C = atof(optarg); break;
		case 'p': period_us = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		case 'q': quota_us = atol(optarg); break;
		case 'o': offsets = optarg; break;
		case 'b': bind = 1; break;
		case 'O': seed = strtoul(optarg, NULL, 10); seeded = 1; break;
		default: die("usage: cfsbench [-b] -g G -r R -s S -c C_MS -p PERIOD_US [-w WARMUP_MS] [-q QUOTA_US (-o OFF_MS,... | -O SEED)] PROCS_FILE...");
		}
	}
	if (G < 1 || G > MAXGROUPS || R < 1 || G * R > MAXRANKS || S < 1 || !(C > 0) || !(period_us >= 1000))
		die("bad -g/-r/-s/-c/-p");
	if (argc - optind != G)
		die("one PROCS_FILE a group");
	char **procs = argv + optind;
	double off[MAXGROUPS] = {0};
	if (offsets) {
		if (quota_us <= 0)
			die("-o needs -q");
		char *save, *tok = strtok_r(offsets, ",", &save);
		for (int g = 0; g < G; g++) {
			if (!tok)
				die("-o: one offset a group");
			off[g] = atof(tok);
			tok = strtok_r(NULL, ",", &save);
		}
	}
	if (seeded) {
		if (quota_us <= 0 || offsets)
			die("-O needs -q and no -o");
		draw(off, G, R, quota_us * 1e-3, period_us * 1e-3, seed, bind);
	}
	if (offsets || seeded)
		for (int g = 0; g < G; g++)
			setphase(procs[g], quota_us, (long)period_us, off[g]);
	int n = G * R;
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	memset(sh, 0, sizeof *sh);
	for (int k = 0; k < n; k++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0)
			continue;
		int g = k / R;
		if (strcmp(procs[g], "-") != 0) {
			char buf[32];
			snprintf(buf, sizeof buf, "%d", getpid());
			if (writefile(procs[g], buf) != 0) {
				fprintf(stderr, "cfsbench: cannot join %s: %s\n", procs[g], strerror(errno));
				_exit(2);
			}
		}
		if (bind) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(k % sysconf(_SC_NPROCESSORS_ONLN), &set);
			if (sched_setaffinity(0, sizeof set, &set) != 0) {
				fprintf(stderr, "cfsbench: cannot bind rank %d: %s\n", k, strerror(errno));
				_exit(2);
			}
		}
		struct gaplog *gl = &sh->gaps[k];
		int sense = 0;
		double last = mono();
		// Warm up: every rank polls, so each group's period timer runs
		// and its quota is spent as in the steps.
		barrier(sh, n, &sense, gl, &last);
		double until = mono() + warm * 1e-3;
		while (mono() < until)
			tick(gl, &last);
		if (barrier(sh, n, &sense, gl, &last))
			sh->t_start = mono();
		for (int s = 0; s < S; s++) {
			compute(C * 1e-3, gl, &last);
			if (barrier(sh, n, &sense, gl, &last) && s == S - 1)
				sh->t_end = mono();
		}
		_exit(0);
	}
	double P = period_us * 1e-6;
	int bad = 0, st;
	while (wait(&st) > 0)
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad = 1;
	if (bad)
		die("a rank failed");
	printf("wall=%.6f steps=%d compute_ms=%g groups=%d ranks=%d period_us=%.0f quota_us=%ld bind=%d start_ms=%.3f", sh->t_end - sh->t_start, S, C, G, R, period_us, quota_us, bind, fmod(sh->t_start, P) * 1e3);
	for (int g = 0; g < G && (offsets || seeded); g++)
		printf(" offset%d_ms=%.2f", g, off[g]);
	// Per group: the circular mean of the gap ends modulo P (when the
	// quota came back), relative to group 0's, and the mean gap length.
	double ref = 0;
	for (int g = 0; g < G; g++) {
		double sx = 0, sy = 0, glen = 0;
		int cnt = 0;
		for (int k = g * R; k < (g + 1) * R; k++) {
			struct gaplog *gl = &sh->gaps[k];
			for (int i = 0; i < gl->n; i++) {
				double ph = fmod(gl->end[i], P) / P * 2 * M_PI;
				sx += cos(ph);
				sy += sin(ph);
				glen += gl->end[i] - gl->start[i];
				cnt++;
			}
		}
		double ph = cnt ? atan2(sy, sx) / (2 * M_PI) * P : 0;
		if (ph < 0)
			ph += P;
		double coh = cnt ? sqrt(sx * sx + sy * sy) / cnt : 0;
		if (g == 0)
			ref = ph;
		double rel = fmod(ph - ref + P, P);
		printf(" phase%d_ms=%.2f coherence%d=%.3f gaps%d=%d gapms%d=%.2f", g, rel * 1e3, g, coh, g, cnt, g, cnt ? glen / cnt * 1e3 : 0);
		printf(" abs%d_ms=%.2f", g, ph * 1e3);
	}
	printf("\n");
	return 0;
}
