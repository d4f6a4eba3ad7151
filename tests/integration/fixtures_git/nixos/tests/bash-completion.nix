import ./make-test.nix ({ pkgs, ... }: {
  name = "bash-completion";

  machine = { pkgs, ... }: {
    programs.bash.enableCompletion = true;
  };

  testScript = ''
    machine.succeed("complete")
  '';
})
