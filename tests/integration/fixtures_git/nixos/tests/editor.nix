import ./make-test.nix ({ pkgs, ... }: {
  name = "editor";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.editor ];
  };

  testScript = ''
    machine.succeed("vim --version")
  '';
})
