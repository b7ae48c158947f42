#!/usr/bin/env bash
# Install the Debian packages clirflow's translation stages use (real offline
# machine translation and dictionaries), if they are missing:
#   apertium + apertium-eng-spa  (Spanish↔English, command and apertium-apy server)
#   dict-freedict-eng-deu / -deu-eng  (English↔German dictionaries for query translation)
set -euo pipefail
pkgs=()
command -v apertium >/dev/null || pkgs+=(apertium)
[ -e /usr/share/apertium/modes/spa-eng.mode ] || pkgs+=(apertium-eng-spa)
command -v apertium-apy >/dev/null || pkgs+=(apertium-apy)
[ -e /usr/share/dictd/freedict-eng-deu.index ] || pkgs+=(dict-freedict-eng-deu)
[ -e /usr/share/dictd/freedict-deu-eng.index ] || pkgs+=(dict-freedict-deu-eng)
[ ${#pkgs[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
echo "installing Debian packages: ${pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
