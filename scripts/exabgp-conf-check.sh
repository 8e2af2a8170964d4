#!/bin/sh
# Runs `bgpinject --check` over ExaBGP's example configurations of every era
# (test-vectors/exabgp-conf/<era>/) and prints, per era, which are accepted and why the others
# are refused. Files refused only because they use a family bgpinject does not have yet
# (EVPN, VPLS, flow-vpn, MUP, SR-policy, RTC, ...) are counted apart.
#
#   scripts/exabgp-conf-check.sh            print the report
#   scripts/exabgp-conf-check.sh --expected print the one-line-per-file status list that
#                                           tests/exabgp_configs.rs compares with
#                                           test-vectors/exabgp-conf/expected.txt
# BIN names the binary (default target/debug/bgpinject).
set -u
cd "$(dirname "$0")/.." || exit 2
BIN=${BIN:-target/debug/bgpinject}
CORPUS=test-vectors/exabgp-conf
# A refusal that names one of these words is a family of the families issue, not a syntax gap.
FAMILY_WORDS='l2vpn|evpn|vpls|flow-vpn|mup|sr-policy|srte|rtc|rt-constraint|bgp-ls|mvpn|mcast-vpn'
mode=${1:-report}

status() { # FILE REASON -> "accepted" | "family" | "refused"
    reason=$2
    if [ -z "$reason" ] && "$BIN" --check "$1" >/dev/null 2>&1; then
        echo accepted
    elif printf '%s' "$reason" | grep -Eqi "'($FAMILY_WORDS)'|family '[a-z0-9]+ ($FAMILY_WORDS)'|\b($FAMILY_WORDS) (unicast|vpls|evpn|flow|mup)"; then
        echo family
    else
        echo refused
    fi
}

for era_dir in "$CORPUS"/*/; do
    era=$(basename "$era_dir")
    total=0 accepted=0 family=0
    for f in "$era_dir"*; do
        case "$f" in *README*) continue ;; esac
        [ -f "$f" ] || continue
        total=$((total + 1))
        reason=$("$BIN" --check "$f" 2>&1 >/dev/null | grep -v ': warning: ' | head -n 1)
        s=$(status "$f" "$reason")
        case $s in
        accepted) accepted=$((accepted + 1)) ;;
        family) family=$((family + 1)) ;;
        esac
        if [ "$mode" = --expected ]; then
            echo "$era/$(basename "$f") $s"
        elif [ "$s" != accepted ]; then
            echo "  $s: ${reason#"$CORPUS"/}"
        fi
    done
    if [ "$mode" != --expected ]; then
        echo "$era: $accepted of $total accepted, $family refused for a family not implemented yet, $((total - accepted - family)) refused"
    fi
done
