# Private APT configurations for compat/kernels (sourced, not executed).
# shellcheck shell=bash
# Each configuration has its own sources list, package lists, cache and (for downloads) dpkg
# status, under $KCACHE/apt/<name>: the system's /etc/apt sources are never changed.

# The archives the machine already uses (their URIs), else Debian's defaults.
apt_uri() { # main | security
  local f=/etc/apt/sources.list.d/debian.sources u=
  if [ -f "$f" ]; then
    if [ "$1" = security ]; then
      u=$(sed -n 's/^URIs: *//p' "$f" | grep -m1 'debian-security')
    else
      u=$(sed -n 's/^URIs: *//p' "$f" | grep -v 'debian-security' | head -n1)
    fi
  fi
  if [ -z "$u" ]; then
    case $1 in security) u=http://deb.debian.org/debian-security ;; *) u=http://deb.debian.org/debian ;; esac
  fi
  echo "${u%% *}"
}

# apt_private NAME SYSTEM_STATUS "SUITE..." -> sets APT_CONFIG for that private configuration and
# runs apt-get update in it. SYSTEM_STATUS=1 keeps the system's dpkg status (to install into the
# system), 0 gives it an empty one (download only). Suites ending in -security come from the
# security archive.
apt_private() {
  local name=$1 sysstatus=$2 suites=$3 d s uri
  d=$KCACHE/apt/$name
  mkdir -p "$d/lists/partial" "$d/cache/archives/partial" "$d/parts" "$d/prefs"
  : > "$d/sources.list"
  for s in $suites; do
    case $s in *-security) uri=$(apt_uri security) ;; *) uri=$(apt_uri main) ;; esac
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $s main" >> "$d/sources.list"
  done
  [ -f "$d/status" ] || : > "$d/status"
  {
    echo "Dir::Etc::SourceList \"$d/sources.list\";"
    echo "Dir::Etc::SourceParts \"$d/parts\";"
    echo "Dir::Etc::Preferences \"$d/prefs/none\";"
    echo "Dir::Etc::PreferencesParts \"$d/prefs\";"
    echo "Dir::State::Lists \"$d/lists\";"
    echo "Dir::Cache \"$d/cache\";"
    [ "$sysstatus" = 1 ] || echo "Dir::State::status \"$d/status\";"
    echo 'APT::Architecture "amd64";'
    echo 'APT::Architectures { "amd64"; };'
    echo 'Acquire::Languages "none";'
    echo 'Acquire::Retries "3";'
  } > "$d/apt.conf"
  export APT_CONFIG=$d/apt.conf
  apt-get update -qq >"$d/update.log" 2>&1 || { cat "$d/update.log" >&2; return 1; }
}
