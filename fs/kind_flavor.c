// SPDX-License-Identifier: MIT
/*
 * flavors/F: the size of an instance (Nova's flavors). Pure model: the
 * compute backend reads vcpus/ram/disk when it defines a domain.
 */
#include "vnetfs/model.h"
#include "fs/kinds.h"

static const struct vn_attr vn_flavor_attrs[] = {
	{.name = "vcpus", .mode = 0644, .type = VN_T_INT, .min = 1, .max = 256, .dflt = "1"},
	/* MiB; 16 MiB is about the least a Linux guest boots in */
	{.name = "ram", .mode = 0644, .type = VN_T_INT, .min = 16, .max = 4194304, .dflt = "512"},
	/* GiB; 0: the image's own size */
	{.name = "disk", .mode = 0644, .type = VN_T_INT, .min = 0, .max = 65536, .dflt = "1"},
	{.name = NULL},
};

const struct vn_kind vn_kind_flavor = {
	.dir = "flavors",
	.type = "flavor",
	.attrs = vn_flavor_attrs,
};
