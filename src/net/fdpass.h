/* fdpass — send and receive file descriptors over a Unix socket
 * (SCM_RIGHTS), the mechanism that lets `coordhub mcp` hand its stdin and
 * stdout to the hub so no process relays the IDE's bytes. */
#ifndef COORDHUB_NET_FDPASS_H
#define COORDHUB_NET_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/* Send len bytes of data plus nfds descriptors in one sendmsg. Blocks until
 * all data is written (the descriptors travel with the first byte).
 * 0 or -errno. */
int fdpass_send(int sock, const void *data, size_t len, const int *fds, int nfds);

/* One recvmsg of up to cap bytes. Received descriptors (at most maxfds;
 * extras are closed) are stored in fds with *nfds set, close-on-exec.
 * Returns bytes read (0 at EOF) or -errno. */
ssize_t fdpass_recv(int sock, void *buf, size_t cap, int *fds, int maxfds, int *nfds);

#endif
