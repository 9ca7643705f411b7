/* SPDX-License-Identifier: MIT */
/*
 * Addresses, prefixes and IPAM: pure functions, no model, no I/O.
 *
 * Addresses of both families are kept as one host-order 128-bit number so
 * that pool arithmetic (next address, ranges, overlap) is plain integer
 * arithmetic; IPv4 uses the low 32 bits. Parsing and formatting go through
 * inet_pton/inet_ntop (the libc is the well-kept library for that); the
 * arithmetic on top of it has no library in our dependency set, hence here.
 */
#ifndef VNETFS_IP_H
#define VNETFS_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef unsigned __int128 vn_u128;

struct vn_addr {
	int af;	   /* AF_INET or AF_INET6; 0 = unset */
	vn_u128 v; /* host order; IPv4 in the low 32 bits */
};

struct vn_cidr {
	struct vn_addr net; /* network address (host bits zero) */
	int prefix;	    /* 0..32 or 0..128 */
};

struct vn_pool {
	struct vn_addr start, end; /* inclusive, same family, start <= end */
};

/* Longest text forms, with NUL. */
#define VN_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */
#define VN_CIDR_STRLEN (VN_ADDR_STRLEN + 4)

/* Strict parsers: the whole string must be the value (no spaces).
 * Return 0, or -EINVAL. */
int vn_addr_parse(const char *s, struct vn_addr *out);
/* "A.B.C.D/P" or "X::/P". With strict, host bits set is -EINVAL
 * ("10.0.0.1/24" is not a network); without, they are cleared. A missing
 * "/P" is -EINVAL. */
int vn_cidr_parse(const char *s, bool strict, struct vn_cidr *out);
/* "START-END", both addresses of one family, START <= END. */
int vn_pool_parse(const char *s, struct vn_pool *out);
/* "DEST NEXTHOP" (one or more blanks between): DEST a strict cidr, NEXTHOP
 * an address of the same family. */
int vn_route_parse(const char *s, struct vn_cidr *dest, struct vn_addr *nexthop);

/* Canonical text (inet_ntop form; cidr as "net/prefix"; pool "a-b";
 * route "dest nexthop"). buf must hold VN_*_STRLEN (route/pool: 2 addrs). */
void vn_addr_format(const struct vn_addr *a, char *buf, size_t len);
void vn_cidr_format(const struct vn_cidr *c, char *buf, size_t len);
void vn_pool_format(const struct vn_pool *p, char *buf, size_t len);

int vn_addr_cmp(const struct vn_addr *a, const struct vn_addr *b);
bool vn_addr_eq(const struct vn_addr *a, const struct vn_addr *b);
/* Number of bits in an address of this family (32 or 128). */
int vn_af_bits(int af);
bool vn_cidr_contains(const struct vn_cidr *c, const struct vn_addr *a);
bool vn_cidr_overlaps(const struct vn_cidr *a, const struct vn_cidr *b);
/* Last address of the prefix (IPv4 broadcast). */
struct vn_addr vn_cidr_last(const struct vn_cidr *c);
/* Usable host range of a prefix, as Neutron sees it: IPv4 excludes the
 * network and broadcast addresses (except /31 and /32 which use all);
 * IPv6 excludes the subnet-router anycast address (::0 of the prefix).
 * -EINVAL if the prefix has no usable host. */
int vn_cidr_hosts(const struct vn_cidr *c, struct vn_addr *first, struct vn_addr *last);
bool vn_pool_overlaps(const struct vn_pool *a, const struct vn_pool *b);
bool vn_pool_contains(const struct vn_pool *p, const struct vn_addr *a);

/* A subnet as IPAM sees it. */
struct vn_subnet_ipam {
	struct vn_cidr cidr;
	bool has_gateway;
	struct vn_addr gateway;
	const struct vn_pool *pools;
	size_t npools;
};

/* Neutron's default for gateway_ip: the first usable host. */
int vn_ipam_default_gateway(const struct vn_cidr *c, struct vn_addr *gw);
/* Neutron's default allocation pools: the whole usable host range minus
 * the gateway (which splits it in two when it sits in the middle). Writes
 * up to 2 pools into out[], sets *n. -EINVAL if nothing is left. */
int vn_ipam_default_pools(const struct vn_cidr *c, const struct vn_addr *gw /* NULL: none */,
			  struct vn_pool out[2], size_t *n);
/* Check a subnet as a whole. On failure return -EINVAL and put one English
 * sentence in why (e.g. "gateway_ip 10.0.1.1 is outside cidr 10.0.0.0/24").
 * Checks: gateway inside cidr and a usable host; every pool inside the
 * usable host range and of the cidr's family; pools don't overlap each
 * other; the gateway is in no pool. */
int vn_ipam_validate(const struct vn_subnet_ipam *s, char *why, size_t whylen);
/* Pick the lowest free address in the pools. used[] is sorted ascending
 * (vn_addr_cmp) and may hold addresses outside the pools. -ENOSPC when
 * every pool address is used. */
int vn_ipam_alloc(const struct vn_subnet_ipam *s, const struct vn_addr *used, size_t nused,
		  struct vn_addr *out);
/* May this fixed address be given to a port: inside the cidr, a usable
 * host, not the gateway (inside or outside the pools, as Neutron allows).
 * -EINVAL with a sentence in why otherwise. Whether it is taken is the
 * caller's check (-EADDRINUSE). */
int vn_ipam_check_fixed(const struct vn_subnet_ipam *s, const struct vn_addr *a, char *why,
			size_t whylen);

/* Address ranges that are not ordinary unicast: "this network" (0/8, ::),
 * loopback, link-local, multicast, reserved (240/4 and the broadcast
 * address), IPv4-mapped and IPv4-compatible IPv6. No subnet may use them;
 * see docs/design-notes.md ("Addresses the daemon refuses"). */
struct vn_special {
	const char *range; /* "127.0.0.0/8" */
	const char *what;  /* "loopback" */
	bool link_local;   /* fine where a link-local address is (a next hop) */
};
/* The first special range that holds a, or NULL for ordinary unicast. */
const struct vn_special *vn_addr_special(const struct vn_addr *a);
/* The first special range that overlaps c, or NULL. */
const struct vn_special *vn_cidr_special(const struct vn_cidr *c);

/* Object names: [A-Za-z0-9._-], 1..63 bytes, not starting with '.'.
 * 0 or -EINVAL. */
int vn_name_check(const char *name);

/* A MAC address "aa:bb:cc:dd:ee:ff" (case-insensitive in, lower-case
 * out); unicast only. 0 or -EINVAL. */
int vn_mac_parse(const char *s, uint8_t mac[6]);
void vn_mac_format(const uint8_t mac[6], char *buf, size_t len /* >= 18 */);

#endif
