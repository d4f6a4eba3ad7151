# The NixOS tests, one binding a test: nixos/release.nix makes each a job `tests.<name>.<system>`.
{ system, pkgs }:

let
  handleTest = path: args: import path ({ inherit system pkgs; } // args);
in
{
  bash-completion = handleTest ./bash-completion.nix { };
  bash = handleTest ./bash.nix { };
  boot = handleTest ./boot.nix { };
  cowsay = handleTest ./cowsay.nix { };
  curl = handleTest ./curl.nix { };
  editor = handleTest ./editor.nix { };
  firewall = handleTest ./firewall.nix { };
  foo = handleTest ./foo.nix { };
  git = handleTest ./git.nix { };
  hello = handleTest ./hello.nix { };
  kernel = handleTest ./kernel.nix { };
  login = handleTest ./login.nix { };
  nano = handleTest ./nano.nix { };
  networking = handleTest ./networking.nix { };
  nginx = handleTest ./nginx.nix { };
  openssh = handleTest ./openssh.nix { };
  patched = handleTest ./patched.nix { };
  postgresql = handleTest ./postgresql.nix { };
  python = handleTest ./python.nix { };
  simple = handleTest ./simple.nix { };
  sudo = handleTest ./sudo.nix { };
  webapp = handleTest ./webapp.nix { };
}
