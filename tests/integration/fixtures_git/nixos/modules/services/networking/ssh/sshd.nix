{ config, pkgs, ... }:

{
  services.openssh.enable = false;

  environment.etc."ssh/sshd_config" = if config.services.openssh.enable then "UsePAM yes" else "";
}
