fn main() {
    std::process::exit(plasmite::cli::main());
}
