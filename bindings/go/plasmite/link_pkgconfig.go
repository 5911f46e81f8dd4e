//go:build plasmite_pkgconfig

package plasmite

// Linking through pkg-config's `plasmite` package (bindings/c/install.sh PREFIX writes it; set
// PKG_CONFIG_PATH=PREFIX/lib/pkgconfig). Its `-lplasmite` picks libplasmite.so when the prefix holds
// both libraries, so programs built this way need it at run time (LD_LIBRARY_PATH or an rpath).

// #cgo pkg-config: plasmite
import "C"
