/*
 * intra-pingpong.c: the two point-to-point loops of the OSU
 * Micro-Benchmarks (osu_latency and osu_bw), written for converge's
 * intra-node measurements (scripts/measure-intra.sh) because Debian does
 * not package the OSU suite. It is not the OSU code; it follows the same
 * method and prints the same format, so `sim fit network` reads it:
 *
 *   latency: rank 0 sends a message of each size and waits for rank 1
 *            to send it back; skip warm-up round trips, then time
 *            iters of them; print half the mean round trip in
 *            microseconds ("# Size  Latency (us)").
 *   bw:      rank 0 posts a window of 64 MPI_Isend of each size, rank
 *            1 the matching MPI_Irecv; after both MPI_Waitall rank 1
 *            sends a 4-byte acknowledgement; the rate is
 *            size * window * iters / elapsed in MB/s (10^6 bytes per
 *            second) ("# Size  Bandwidth (MB/s)").
 *
 * Iteration counts are those of OSU 5.x: latency 10000 (skip 100) up to
 * 8 KiB and 1000 (skip 10) above; bandwidth 100 (skip 10) up to 8 KiB and
 * 20 (skip 2) above. Sizes are 0 (latency only) and 1 B to 4 MiB by
 * powers of two. Buffers are page-aligned and touched before timing.
 *
 * Usage: mpirun -np 2 ... intra-pingpong latency|bw [max_bytes]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WINDOW 64
#define LARGE 8192

static void *alloc(size_t n)
{
	void *p = NULL;
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	if (posix_memalign(&p, (size_t)page, n ? n : 1) != 0) {
		fprintf(stderr, "intra-pingpong: cannot allocate %zu bytes\n", n);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	memset(p, 'a', n ? n : 1);
	return p;
}

static double latency(int rank, char *s, char *r, int size)
{
	int iters = size > LARGE ? 1000 : 10000;
	int skip = size > LARGE ? 10 : 100;
	double t0 = 0;
	MPI_Barrier(MPI_COMM_WORLD);
	for (int i = 0; i < iters + skip; i++) {
		if (i == skip)
			t0 = MPI_Wtime();
		if (rank == 0) {
			MPI_Send(s, size, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
			MPI_Recv(r, size, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(r, size, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			MPI_Send(s, size, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
		}
	}
	return (MPI_Wtime() - t0) * 1e6 / (2.0 * iters);
}

static double bandwidth(int rank, char *s, char *r, int size)
{
	int iters = size > LARGE ? 20 : 100;
	int skip = size > LARGE ? 2 : 10;
	MPI_Request req[WINDOW];
	char ack[4] = {0};
	double t0 = 0;
	MPI_Barrier(MPI_COMM_WORLD);
	for (int i = 0; i < iters + skip; i++) {
		if (i == skip)
			t0 = MPI_Wtime();
		if (rank == 0) {
			for (int w = 0; w < WINDOW; w++)
				MPI_Isend(s, size, MPI_CHAR, 1, 100, MPI_COMM_WORLD, &req[w]);
			MPI_Waitall(WINDOW, req, MPI_STATUSES_IGNORE);
			MPI_Recv(ack, 4, MPI_CHAR, 1, 101, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			for (int w = 0; w < WINDOW; w++)
				MPI_Irecv(r, size, MPI_CHAR, 0, 100, MPI_COMM_WORLD, &req[w]);
			MPI_Waitall(WINDOW, req, MPI_STATUSES_IGNORE);
			MPI_Send(ack, 4, MPI_CHAR, 0, 101, MPI_COMM_WORLD);
		}
	}
	double t = MPI_Wtime() - t0;
	return (double)size / 1e6 * iters * WINDOW / t;
}

int main(int argc, char **argv)
{
	int rank, nprocs;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nprocs);
	int bw = argc > 1 && strcmp(argv[1], "bw") == 0;
	if (nprocs != 2 || argc < 2 || (!bw && strcmp(argv[1], "latency") != 0)) {
		if (rank == 0)
			fprintf(stderr, "usage: mpirun -np 2 %s latency|bw [max_bytes]\n", argv[0]);
		MPI_Finalize();
		return 2;
	}
	long max = argc > 2 ? atol(argv[2]) : 1L << 22;
	if (max < 1 || max > 1L << 30) {
		if (rank == 0)
			fprintf(stderr, "intra-pingpong: max_bytes must be 1 .. 2^30\n");
		MPI_Finalize();
		return 2;
	}
	char *s = alloc((size_t)max), *r = alloc((size_t)max);
	if (rank == 0) {
		/* The title is OSU's, so that readers of OSU output take it;
		 * the next line says what produced it. */
		if (bw)
			printf("# OSU MPI Bandwidth Test (format) converge intra-pingpong.c v1\n");
		else
			printf("# OSU MPI Latency Test (format) converge intra-pingpong.c v1\n");
		printf("# Not the OSU Micro-Benchmarks: converge's scripts/intra-pingpong.c, same loops (window %d for bandwidth)\n", WINDOW);
		printf("# Size %s\n", bw ? "     Bandwidth (MB/s)" : "         Latency (us)");
		fflush(stdout);
	}
	for (long size = bw ? 1 : 0; size <= max; size = size ? size * 2 : 1) {
		double v = bw ? bandwidth(rank, s, r, (int)size) : latency(rank, s, r, (int)size);
		if (rank == 0) {
			printf("%-10ld%18.2f\n", size, v);
			fflush(stdout);
		}
	}
	free(s);
	free(r);
	MPI_Finalize();
	return 0;
}
