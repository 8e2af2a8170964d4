#!/bin/sh
# Cron job: rebuild the routes file from a list of prefixes, one per line, then reload.
#   */5 * * * * root /etc/bgpinject/update-routes.sh /etc/bgpinject/prefixes.txt
# The new file is checked before it replaces the old one, and renamed into place so that
# bgpinject never reads half a file. With --watch instead of the reload, bgpinject notices
# the change by itself.
set -eu
PREFIXES=${1:-/etc/bgpinject/prefixes.txt}
DIR=${BGPINJECT_DIR:-/etc/bgpinject}
NEXT_HOP4=${NEXT_HOP4:-192.0.2.10}
NEXT_HOP6=${NEXT_HOP6:-2001:db8::10}
tmp="$DIR/.routes.inc.$$"
trap 'rm -f "$tmp"' EXIT
{
    echo "# Written by update-routes.sh from $PREFIXES; do not edit by hand."
    grep -v '^[[:space:]]*\(#\|$\)' "$PREFIXES" | while read -r prefix; do
        case "$prefix" in
            *:*) echo "route $prefix next-hop $NEXT_HOP6;" ;;
            *) echo "route $prefix next-hop $NEXT_HOP4;" ;;
        esac
    done
} >"$tmp"
mv "$tmp" "$DIR/routes.inc.new"
# Check the whole configuration with the new routes before using them.
sed 's|include "routes.inc";|include "routes.inc.new";|' "$DIR/bgpinject.conf" >"$DIR/.check.conf"
bgpinject --check "$DIR/.check.conf" >/dev/null
rm -f "$DIR/.check.conf"
mv "$DIR/routes.inc.new" "$DIR/routes.inc"
bgpinject --reload --pid-file "${PID_FILE:-/run/bgpinject/bgpinject.pid}"
