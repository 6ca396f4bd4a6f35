/*
 * The floor of `cargo bench --bench startup`: the kernel work of one fresh container per test,
 * done by the smallest program that can do it, to measure `isolated` against.
 *
 *     floor LOWER N THREADS
 *
 * THREADS single-threaded worker processes share N tests. Each test is a raw clone(2) into new
 * PID, mount, UTS, IPC and network namespaces; its PID 1 makes the mounts private, sets the
 * hostname, brings `lo` up, mounts a tmpfs scratch, an overlay with LOWER as its lower layer,
 * a fresh /proc, a tmpfs /dev with six nodes bound in, pivots into the overlay and detaches
 * the old root, then forks the test's body (PID 2), which reports one byte over a pipe. The
 * worker reads the verdict and reaps PID 1. No user namespace, no cgroups, no seccomp: what
 * `isolated` adds on top of those is its own cost. Exits 0 when every test reported.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *lower;
static char scratch[64];

static void die(const char *what)
{
	perror(what);
	_exit(111);
}

static void must(int result, const char *what)
{
	if (result < 0)
		die(what);
}

static void loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	must(s, "socket");
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	must(ioctl(s, SIOCGIFFLAGS, &ifr), "SIOCGIFFLAGS lo");
	ifr.ifr_flags |= IFF_UP;
	must(ioctl(s, SIOCSIFFLAGS, &ifr), "SIOCSIFFLAGS lo");
	close(s);
}

static void bind_device(const char *name)
{
	char host[64], inside[160];
	int fd;

	snprintf(host, sizeof(host), "/dev/%s", name);
	snprintf(inside, sizeof(inside), "%s/root/dev/%s", scratch, name);
	fd = open(inside, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
	must(fd, inside);
	close(fd);
	must(mount(host, inside, NULL, MS_BIND, NULL), inside);
}

/* PID 1 of one test: build the root, start the body, wait for it. */
static int pid1(int report)
{
	static const char *devices[] = { "null", "zero", "full", "random", "urandom", "tty" };
	char path[160], options[512];
	int status;
	pid_t body;

	must(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "make / private");
	must(sethostname("floor", 5), "sethostname");
	loopback_up();

	must(mount("tmpfs", scratch, "tmpfs", 0, "mode=0755"), "mount scratch");
	snprintf(path, sizeof(path), "%s/upper", scratch);
	must(mkdir(path, 0755), path);
	snprintf(path, sizeof(path), "%s/work", scratch);
	must(mkdir(path, 0755), path);
	snprintf(path, sizeof(path), "%s/root", scratch);
	must(mkdir(path, 0755), path);
	snprintf(options, sizeof(options), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower,
		 scratch, scratch);
	must(mount("overlay", path, "overlay", 0, options), "mount overlay");

	snprintf(path, sizeof(path), "%s/root/proc", scratch);
	must(mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), "mount proc");
	snprintf(path, sizeof(path), "%s/root/dev", scratch);
	must(mount("tmpfs", path, "tmpfs", MS_NOSUID, "mode=0755"), "mount /dev");
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		bind_device(devices[i]);

	snprintf(path, sizeof(path), "%s/root", scratch);
	must(chdir(path), "chdir root");
	must(syscall(SYS_pivot_root, ".", "."), "pivot_root");
	must(umount2(".", MNT_DETACH), "detach old root");
	must(chdir("/"), "chdir /");

	body = fork();
	must(body, "fork body");
	if (body == 0) {
		if (write(report, ".", 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(report);
	if (waitpid(body, &status, 0) != body || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

/* One test from a worker: clone PID 1, read its verdict, reap it. */
static int one_test(void)
{
	int pipefd[2];
	int status;
	char verdict = 0;
	long pid;

	must(pipe2(pipefd, O_CLOEXEC), "pipe2");
	pid = syscall(SYS_clone, SIGCHLD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
				     CLONE_NEWIPC | CLONE_NEWNET,
		      NULL, NULL, NULL, NULL);
	must(pid, "clone");
	if (pid == 0) {
		close(pipefd[0]);
		_exit(pid1(pipefd[1]));
	}
	close(pipefd[1]);
	if (read(pipefd[0], &verdict, 1) != 1)
		verdict = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	return verdict == '.' && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv)
{
	atomic_long *next;
	long n, threads, failed = 0;
	int status;

	if (argc != 4) {
		fprintf(stderr, "usage: floor LOWER N THREADS\n");
		return 2;
	}
	lower = argv[1];
	n = atol(argv[2]);
	threads = atol(argv[3]);
	snprintf(scratch, sizeof(scratch), "/tmp/isolated-floor.XXXXXX");
	if (!mkdtemp(scratch))
		die("mkdtemp");
	next = mmap(NULL, sizeof(*next), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (next == MAP_FAILED)
		die("mmap");
	atomic_init(next, 0);

	for (long t = 0; t < threads; t++) {
		pid_t worker = fork();

		must(worker, "fork worker");
		if (worker == 0) {
			int ok = 1;

			while (atomic_fetch_add(next, 1) < n)
				ok &= one_test();
			_exit(ok ? 0 : 1);
		}
	}
	for (long t = 0; t < threads; t++) {
		if (wait(&status) < 0)
			die("wait");
		failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	rmdir(scratch);
	if (failed)
		fprintf(stderr, "floor: %ld worker(s) saw a test fail\n", failed);
	return failed ? 1 : 0;
}
