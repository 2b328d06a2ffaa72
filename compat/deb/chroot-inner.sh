#!/usr/bin/env bash
# The part of chroot-test.sh that runs inside its private mount and network namespaces
# (unshare -m -n): overlay over the cached chroot, install, run, restore. Environment: SUITE,
# DEB (file name), DEBIAN_LIBUV, LOWER (cached chroot), W (work folder), HERE (compat/deb).
set -euo pipefail
mount --make-rprivate /
ip link set lo up
root=$W/root
mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$W/upper,workdir=$W/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
cp "$W/upper/$DEB" "$HERE"/chroot/* "$root/tmp/"
inroot() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp TERM=dumb LANG=C.UTF-8 "$@"; }
fail=0; passed=0
ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() { echo "  FAIL: $*"; fail=$((fail + 1)); }
state() { inroot dpkg-query -W -f "\${db:Status-Abbrev}\${Package} \${Version}\n" "$@" 2>/dev/null | sed "s/^/    /" || true; }

echo "  before: $(inroot dpkg-query -W -f "\${Package} \${Version}, " nodejs neovim lua-luv "$DEBIAN_LIBUV" 2>/dev/null)"
# What apt would do: remove Debian libuv only.
plan=$(inroot apt-get -s install "/tmp/$DEB" 2>&1)
removed=$(echo "$plan" | sed -n "s/^Remv \([^ ]*\).*/\1/p" | tr "\n" " ")
if [ "$removed" = "$DEBIAN_LIBUV " ]; then ok "apt plan removes only $DEBIAN_LIBUV"; else echo "$plan"; bad "apt plan removes: $removed"; fi
if inroot apt-get install -y -q "/tmp/$DEB" >"$W/apt-install.log" 2>&1; then ok "apt-get install ./$DEB"; else cat "$W/apt-install.log"; bad "apt-get install failed"; fi
state libuv1-uvring "$DEBIAN_LIBUV" nodejs neovim lua-luv
for p in nodejs neovim lua-luv libuv1-uvring; do
  [ "$(inroot dpkg-query -W -f "\${db:Status-Abbrev}" "$p" 2>/dev/null)" = "ii " ] && ok "$p installed" || bad "$p not installed"
done
[ "$(inroot dpkg-query -W -f "\${db:Status-Abbrev}" "$DEBIAN_LIBUV" 2>/dev/null)" = "ii " ] && bad "$DEBIAN_LIBUV still installed" || ok "$DEBIAN_LIBUV removed"

# Checks a program's MAPS line: the mapped file is the package's, and the same inode.
check_maps() { # name expected-package output
  local line path ino owner
  line=$(echo "$3" | grep "^MAPS " | head -1 || true)
  path=$(echo "$line" | cut -d" " -f2); ino=$(echo "$line" | cut -d" " -f3)
  owner=$(inroot dpkg -S "$path" 2>/dev/null | cut -d: -f1)
  if [ -n "$path" ] && [ "$owner" = "$2" ] && [ "$(inroot stat -c %i "$path")" = "$ino" ]; then
    ok "$1 maps $path (inode $ino), owned by $owner"
  else bad "$1 maps \"$path\" owned by \"$owner\", want $2"; fi
}
run_all() { # expected-package
  local out
  out=$(cd / && timeout 60 chroot "$root" env -i PATH=/usr/bin:/bin HOME=/tmp TERM=dumb sh -c "cd /tmp && node node.js" 2>&1) && ok "node ran" || bad "node exit $?"
  echo "$out" | sed "s/^/    /"; echo "$out" | grep -q "^node: all 6 ok" && ok "node: 6 checks" || bad "node checks"
  check_maps node "$1" "$out"
  rm -f "$root/tmp/nvim.out"
  timeout 60 chroot "$root" env -i PATH=/usr/bin:/bin HOME=/tmp TERM=dumb nvim --headless -u NONE -i NONE -n \
    -c "luafile /tmp/nvim.lua" >/dev/null 2>&1 </dev/null && ok "nvim ran" || bad "nvim exit $?"
  out=$(cat "$root/tmp/nvim.out" 2>/dev/null || true)
  echo "$out" | sed "s/^/    /"; echo "$out" | grep -q "^nvim: all 3 ok" && ok "nvim: 3 checks" || bad "nvim checks"
  check_maps nvim "$1" "$out"
  out=$(timeout 60 chroot "$root" env -i PATH=/usr/bin:/bin HOME=/tmp lua5.1 /tmp/luv-test.lua 2>&1) && ok "lua5.1 + luv ran" || bad "lua exit $?"
  echo "$out" | sed "s/^/    /"; echo "$out" | grep -q "^luv: all 3 ok" && ok "luv: 3 checks" || bad "luv checks"
  check_maps luv "$1" "$out"
}
echo "  -- on uvring (no LD_LIBRARY_PATH):"
run_all libuv1-uvring

echo "  -- reinstalling Debian's $DEBIAN_LIBUV:"
orig=$(ls "$root"/var/cache/apt/archives/${DEBIAN_LIBUV}_*.deb | head -1)
if inroot apt-get install -y -q "/var/cache/apt/archives/$(basename "$orig")" >"$W/apt-restore.log" 2>&1; then ok "apt-get install $(basename "$orig")"; else cat "$W/apt-restore.log"; bad "restore failed"; fi
state libuv1-uvring "$DEBIAN_LIBUV" nodejs neovim lua-luv
for p in nodejs neovim lua-luv "$DEBIAN_LIBUV"; do
  [ "$(inroot dpkg-query -W -f "\${db:Status-Abbrev}" "$p" 2>/dev/null)" = "ii " ] && ok "$p installed" || bad "$p not installed"
done
[ "$(inroot dpkg-query -W -f "\${db:Status-Abbrev}" libuv1-uvring 2>/dev/null)" = "ii " ] && bad "libuv1-uvring still installed" || ok "libuv1-uvring removed"
echo "  -- on Debian's $DEBIAN_LIBUV again:"
run_all "$DEBIAN_LIBUV"
echo "chroot-$SUITE: $passed passed, $fail failed"
[ "$fail" -eq 0 ]
