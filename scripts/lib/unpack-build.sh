# Sourced by scripts that take an mlp-bench build which may be xz-compressed (as carried to the
# lent device machine, which has python3 but maybe not xz): scripts/ab-compare,
# Benchmarks/scaling/run.sh.
#
#   unpack_build BUILD DEST    copies BUILD to DEST, decompressing a `.xz` (xz, else python3's
#                              lzma), and makes it executable; returns 1 if that fails.
unpack_build() {
  local build=$1 dest=$2
  case "$build" in
    *.xz) { xz -dc "$build" 2>/dev/null ||
            python3 -c "import lzma,sys; sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())" "$build" 2>/dev/null; } > "$dest" ;;
    *) cp "$build" "$dest" ;;
  esac && chmod +x "$dest"
}
