{ config, pkgs, ... }:

{
  security.sudo.enable = false;

  environment.etc.sudoers = if config.security.sudo.enable then "root ALL=(ALL) SETENV: ALL" else "";
}
