#!/usr/bin/env bash
# Installs what hrviz's tests need outside the venv. Idempotent and quiet when everything is there:
#   - Debian packages mariadb-server chromium tmux kcat (apt-get update/install only if one is missing)
#   - the Kafka broker jars, resolved with Maven from scripts/kafka/pom.xml into .services/kafka/lib
#     (only when the lib folder has no completion marker for the current pom + version).
# Env: HRVIZ_KAFKA_VERSION / HRVIZ_LOG4J2_VERSION override the pom's kafka.version / log4j2.version
# (fallback: 4.1.2 / 2.25.3). Works with CI=true and no stdin.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SVC=$ROOT/.services
POM=$ROOT/scripts/kafka/pom.xml
LIB=$SVC/kafka/lib
export DEBIAN_FRONTEND=noninteractive

log() { printf '[install-system-deps] %s\n' "$*" >&2; }

SUDO=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=(sudo -n); else SUDO=(); fi
fi

# --- Debian packages --------------------------------------------------------------------------
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

wait_for_apt() {
  # someone else (another script, a person) may be running apt/dpkg: wait instead of racing it
  local i
  for i in $(seq 1 900); do
    pgrep -x apt-get >/dev/null || pgrep -x dpkg >/dev/null || pgrep -x apt >/dev/null || return 0
    [ "$i" = 1 ] && log "waiting for another apt-get/dpkg to finish..."
    sleep 1
  done
  log "apt-get/dpkg still busy after 15 min"; return 1
}

missing=()
for p in mariadb-server chromium tmux kcat; do installed "$p" || missing+=("$p"); done
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)

if [ ${#missing[@]} -gt 0 ]; then
  wait_for_apt
  # re-check: the other apt run may have installed them meanwhile
  still=()
  for p in "${missing[@]}"; do installed "$p" || still+=("$p"); done
  if [ ${#still[@]} -gt 0 ]; then
    log "installing Debian packages: ${still[*]}"
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 update -q </dev/null
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${still[@]}" </dev/null
  fi
fi

# --- Kafka jars from Maven Central --------------------------------------------------------------
kver=${HRVIZ_KAFKA_VERSION:-}
lver=${HRVIZ_LOG4J2_VERSION:-}
stamp_key=$( { cat "$POM"; echo "kafka=$kver log4j2=$lver"; } | sha256sum | cut -c1-16)
marker=$LIB/.complete-$stamp_key
if [ ! -f "$marker" ]; then
  log "resolving Kafka jars with Maven (${kver:-pom default}) into $LIB ..."
  mkdir -p "$SVC/kafka"
  tmp=$SVC/kafka/lib.tmp.$$
  rm -rf "$tmp"
  props=()
  [ -n "$kver" ] && props+=("-Dkafka.version=$kver")
  [ -n "$lver" ] && props+=("-Dlog4j2.version=$lver")
  # -DoutputDirectory must be absolute: a relative one is taken relative to the pom's folder
  if ! mvn -B -q -Dstyle.color=never -f "$POM" "${props[@]}" dependency:copy-dependencies -DincludeScope=runtime \
        -DoutputDirectory="$tmp" </dev/null >"$SVC/kafka/mvn.log" 2>&1; then
    rm -rf "$tmp"; log "Maven could not resolve the Kafka jars:"; tail -n 40 "$SVC/kafka/mvn.log" >&2; exit 1
  fi
  ls "$tmp"/kafka_2.13-*.jar "$tmp"/log4j-slf4j-impl-*.jar >/dev/null 2>&1 \
    || ls "$tmp"/kafka_2.13-*.jar "$tmp"/slf4j-reload4j-*.jar >/dev/null 2>&1 \
    || { log "resolved jars look incomplete: $(ls "$tmp" | tr '\n' ' ')"; rm -rf "$tmp"; exit 1; }
  touch "$tmp/.complete-$stamp_key"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
  log "Kafka jars ready: $(ls "$LIB"/kafka_2.13-*.jar | xargs -n1 basename), $(ls "$LIB" | wc -l) jars"
fi
