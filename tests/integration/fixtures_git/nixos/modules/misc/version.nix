# The NixOS version; like nixos/modules/misc/version.nix it looks for `.git` in nixpkgs' folder, so a tree must be
# evaluated as Hydra sees it (exported, without .git) for the version to be the same in every commit.
{ pkgs, ... }:

{
  system.nixos.version = "19.09" + (if builtins.pathExists (pkgs.path + "/.git") then "pre-git" else "pre");
}
