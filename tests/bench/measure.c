/*
 * measure.c -- run one command and say what it cost.
 *
 *	measure [-o FILE] [-t SECONDS] -- COMMAND [ARG...]
 *
 * Runs COMMAND (found in PATH) with the standard input, output and error
 * measure was given, waits for it with wait4 and appends one line
 *
 *	ELAPSED_S USER_S SYS_S MAXRSS_KIB STATUS
 *
 * to FILE (default: standard error): wall-clock seconds (CLOCK_MONOTONIC,
 * from just before fork to just after wait4), the command's own CPU
 * seconds, its peak resident set in KiB (ru_maxrss of that process, not
 * of anything it starts), and its exit status (128 + N for signal N).
 * With -t, a command still running after SECONDS is killed (SIGKILL) and
 * its status is 124, as timeout(1) says.  measure exits with that same
 * status, or 70 when it cannot run COMMAND.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMED_OUT	124	/* the status timeout(1) uses */

static volatile sig_atomic_t	alarmed;	/* -t expired */

static void
usage(void)
{
	(void)fprintf(stderr, "usage: measure [-o FILE] [-t SECONDS] -- "
	    "COMMAND [ARG...]\n");
	exit(64);
}

static void
on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

/*
 * Catch SIGALRM without SA_RESTART, so that wait4 returns EINTR.  Done
 * before fork; the command's exec puts back the default.
 */
static int
catch_alarm(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGALRM, &sa, NULL) != 0)
		return -1;
	return 0;
}

/* Wait for pid; kill it when the alarm went off.  -1 on error. */
static pid_t
wait_child(pid_t pid, int *st, struct rusage *ru, int *timed_out)
{
	pid_t	w;

	*timed_out = 0;
	while ((w = wait4(pid, st, 0, ru)) == -1 && errno == EINTR) {
		if (alarmed && !*timed_out) {
			*timed_out = 1;
			(void)kill(pid, SIGKILL);
		}
	}
	return w;
}

static double
tv_sec(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static double
ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Append the result line to path (NULL: standard error). */
static int
report(const char *path, double elapsed, const struct rusage *ru,
    int status)
{
	FILE	*f = stderr;

	if (path != NULL && (f = fopen(path, "ae")) == NULL) {
		(void)fprintf(stderr, "measure: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	(void)fprintf(f, "%.6f %.3f %.3f %ld %d\n", elapsed,
	    tv_sec(&ru->ru_utime), tv_sec(&ru->ru_stime), ru->ru_maxrss,
	    status);
	if (path != NULL && fclose(f) != 0) {
		(void)fprintf(stderr, "measure: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct timespec	 t0, t1;
	struct rusage	 ru;
	const char	*out = NULL;
	char		*end;
	unsigned long	 secs = 0;
	pid_t		 pid, w;
	int		 ch, st, status, timed_out;

	while ((ch = getopt(argc, argv, "+o:t:")) != -1) {
		switch (ch) {
		case 'o':
			out = optarg;
			break;
		case 't':
			errno = 0;
			secs = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || errno != 0 ||
			    *end != '\0' || secs > 86400 * 7)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	if (secs > 0 && catch_alarm() != 0) {
		(void)fprintf(stderr, "measure: sigaction: %s\n",
		    strerror(errno));
		return 70;
	}
	if (clock_gettime(CLOCK_MONOTONIC, &t0) != 0)
		return 70;
	if ((pid = fork()) == -1) {
		(void)fprintf(stderr, "measure: fork: %s\n", strerror(errno));
		return 70;
	}
	if (pid == 0) {
		(void)execvp(argv[optind], argv + optind);
		(void)fprintf(stderr, "measure: %s: %s\n", argv[optind],
		    strerror(errno));
		_exit(127);
	}
	memset(&ru, 0, sizeof(ru));
	if (secs > 0)
		(void)alarm((unsigned int)secs);
	w = wait_child(pid, &st, &ru, &timed_out);
	if (w == -1 || clock_gettime(CLOCK_MONOTONIC, &t1) != 0) {
		(void)fprintf(stderr, "measure: wait4: %s\n", strerror(errno));
		return 70;
	}
	if (timed_out)
		status = TIMED_OUT;
	else if (WIFEXITED(st))
		status = WEXITSTATUS(st);
	else if (WIFSIGNALED(st))
		status = 128 + WTERMSIG(st);
	else
		status = 70;
	if (report(out, ts_diff(&t0, &t1), &ru, status) != 0)
		return 70;
	return status;
}
