#!/bin/sh
# Build every libFuzzer target under fuzz/ with clang (ASan + UBSan) and run
# each for FUZZ_SECONDS (default 30) from its seeds in fuzz/seeds/<name>/.
# A crash stops the run and leaves the reproducer in build-fuzz/.
#
#   scripts/fuzz.sh fuzz/fuzz_json5.c ...      (make fuzz passes them all)
set -eu

SECONDS_EACH=${FUZZ_SECONDS:-30}
B=build-fuzz
PKGS="jansson libuv libwebsockets libcrypto libcurl yaml-0.1 libxml-2.0 sqlite3"
CFLAGS="-std=c17 -D_GNU_SOURCE -g -O1 -Isrc -DPINCER_VERSION=\"fuzz\" -DPINCER_GITREV=\"fuzz\" \
	$(pkg-config --cflags $PKGS)"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
mkdir -p "$B/obj"

# An object is stale when its source or any header changed (a struct's
# layout may have), since there is no dependency tracking here.
newest_h=$(ls -t src/*.h src/*/*.h 2>/dev/null | head -n 1)
objs=""
for src in src/*/*.c; do
	o="$B/obj/$(echo "$src" | tr / _).o"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
		# shellcheck disable=SC2086
		clang $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$src" -o "$o"
	fi
	objs="$objs $o"
done

# Generated sources the Makefile also builds: the embedded templates and
# Control UI (ui.c needs its file table, so every target links it).
mkdir -p "$B/gen"
gen() { # gen NAME SYMBOL DIR [embed.sh flags]
	scripts/embed.sh $4 "$2" "$3" > "$B/gen/$1.c.tmp"
	if ! cmp -s "$B/gen/$1.c.tmp" "$B/gen/$1.c" 2>/dev/null; then
		mv "$B/gen/$1.c.tmp" "$B/gen/$1.c"
	fi
	rm -f "$B/gen/$1.c.tmp"
	o="$B/obj/gen_$1.o"
	if [ ! -f "$o" ] || [ "$B/gen/$1.c" -nt "$o" ] || [ "$newest_h" -nt "$o" ]; then
		# shellcheck disable=SC2086
		clang $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$B/gen/$1.c" -o "$o"
	fi
	objs="$objs $o"
}
gen templates embed_templates templates ""
gen ui embed_ui ui -z

for target in "$@"; do
	name=$(basename "$target" .c)
	seeds="fuzz/seeds/${name#fuzz_}"
	corpus="$B/corpus-${name#fuzz_}"
	mkdir -p "$corpus"
	# shellcheck disable=SC2086
	clang $CFLAGS $SAN -fsanitize=fuzzer "$target" $objs $(pkg-config --libs $PKGS) -lm \
		-o "$B/$name"
	echo "fuzz: $name for ${SECONDS_EACH}s"
	(cd "$B" && "./$name" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
		"corpus-${name#fuzz_}" "../$seeds" 2>"$name.log") ||
		{ tail -n 30 "$B/$name.log"; echo "fuzz: $name FAILED (see $B/$name.log)"; exit 1; }
	grep -E "stat::number_of_executed_units" "$B/$name.log" | sed "s/^/fuzz: $name /"
done
