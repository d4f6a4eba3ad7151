{ config, pkgs, ... }:

{
  programs.bash.enableCompletion = false;

  environment.etc.bashrc = "# /etc/bashrc" + pkgs.lib.optionalString config.programs.bash.enableCompletion "\ncomplete";
}
