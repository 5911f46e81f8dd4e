//go:build !plasmite_pkgconfig

package plasmite

// Link flags for a build inside the plasmite repository: the header from bindings/c/include and the
// static libplasmite.a that `cargo build --release -p plasmite-c` leaves in the workspace's
// target/release. Programs built this way need no shared library at run time. Build with
// `-tags plasmite_pkgconfig` to use an installed library instead (see link_pkgconfig.go).

// #cgo CFLAGS: -I${SRCDIR}/../../c/include
// #cgo LDFLAGS: ${SRCDIR}/../../../target/release/libplasmite.a -lpthread -ldl -lm -lrt -lgcc_s
import "C"
