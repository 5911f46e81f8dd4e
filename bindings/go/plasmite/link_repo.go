//go:build !plasmite_pkgconfig

package plasmite

// Static linking (the default): `-l:libplasmite.a` is looked up in the -L directories, first those
// of CGO_LDFLAGS (e.g. CGO_LDFLAGS=-L$PREFIX/lib for a library installed by bindings/c/install.sh),
// then the workspace's target/release, where `cargo build --release -p plasmite-c` leaves it. The
// header comes from CGO_CFLAGS (-I$PREFIX/include) or bindings/c/include. Programs built this way
// need no shared library at run time. `-tags plasmite_pkgconfig` links through pkg-config instead.

// #cgo CFLAGS: -I${SRCDIR}/../../c/include
// #cgo LDFLAGS: -L${SRCDIR}/../../../target/release -l:libplasmite.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
import "C"
