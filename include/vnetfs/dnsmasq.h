/* SPDX-License-Identifier: MIT */
/*
 * dnsmasq as the DHCP server of a network (backend/dnsmasq.c). The model
 * side (fs/dhcp.c) decides what to serve; this file turns validated values
 * into dnsmasq's argument vector and files, writes the files atomically,
 * and finds and ends a dnsmasq of ours that no supervisor watches (one left
 * by a daemon that died). No user text ever gets here: addresses arrive as
 * struct vn_addr / vn_cidr and are formatted here; names are made from ids.
 */
#ifndef VNETFS_DNSMASQ_H
#define VNETFS_DNSMASQ_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vnetfs/ip.h"

/* Where dnsmasq lives on the host. */
#define VN_DNSMASQ_BIN "/usr/sbin/dnsmasq"
#define VN_IP_BIN "/usr/sbin/ip"
/* Default lease time (seconds): one day, as Neutron's dhcp_lease_duration. */
#define VN_DHCP_LEASE_DEFAULT 86400u

struct vn_dnsmasq_range {
	char tag[48]; /* "s" + the subnet's id digits */
	struct vn_cidr cidr;
};

struct vn_dnsmasq_conf {
	const char *netns;  /* qdhcp-<id> */
	const char *ifname; /* ns-... inside it */
	const char *dir;    /* absolute: STATE/dhcp/<network id> */
	const struct vn_dnsmasq_range *ranges;
	size_t nranges;
	unsigned lease_time; /* seconds; 0: infinite */
};

/* The argument vector (NULL-terminated, free with vn_dnsmasq_argv_free):
 * `ip netns exec NS dnsmasq ...` (ip execs dnsmasq in place, so the pid is
 * dnsmasq's). -ENOMEM, -EINVAL. */
int vn_dnsmasq_argv(const struct vn_dnsmasq_conf *conf, char ***out);
void vn_dnsmasq_argv_free(char **argv);

/* Write name in directory dirfd atomically (a temporary file, then
 * rename), mode 0644. */
int vn_dnsmasq_write(int dirfd, const char *name, const char *text, size_t len);

/* End a dnsmasq of ours still running from its pid file dir/pid, one no
 * supervisor watches (left by a daemon that died): the pid is alive, runs
 * dnsmasq, its command line names that very pid file, and it is in
 * namespace netns (when that exists); anything else is left alone. Checked
 * through a pidfd opened first, so a reused pid is never signalled; SIGTERM,
 * SIGKILL after 1 s, and waits until it is gone. *found: its pid, 0 if none.
 * 0 or -errno. */
int vn_dnsmasq_end_stale(const char *dir, const char *netns, pid_t *found);

#endif
