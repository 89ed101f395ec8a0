# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the scripts that build in a grafted kernel tree.
# lane_tree LANE NAME: the grafted tree of LANE (6.1, or 6.12 in the trixie
# root) and its build directory NAME, as $src and $out (host paths) and
# $src_in and $out_in (the paths make sees), with kmake: the tree's make,
# run by its own compiler. Needs $top and $cache.
lane_tree() {
	src=$("$top/scripts/kernel-source.sh" "$1")
	"$top/scripts/graft.sh" "$src"
	if [ "$1" = 6.1 ]; then
		out=$cache/$2
		kmake() { make "$@"; }
		src_in=$src out_in=$out
	else
		# Debian 13's compiler, in the trixie root, on its paths
		local root
		root=$("$top/scripts/trixie.sh" root)
		out=$root/build/$2
		kmake() { "$top/scripts/trixie.sh" run make "$@"; }
		src_in=${src#"$root"} out_in=${out#"$root"}
	fi
	mkdir -p "$out"
}
