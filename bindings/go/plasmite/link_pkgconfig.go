//go:build plasmite_pkgconfig

package plasmite

// Link flags for an installed libplasmite (`bindings/c/install.sh PREFIX`): pkg-config's `plasmite`
// package, static flags. Set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig when PREFIX is not a default.

// #cgo pkg-config: --static plasmite
import "C"
