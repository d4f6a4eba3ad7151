import ./make-test.nix ({ pkgs, ... }: {
  name = "cowsay";

  machine = { pkgs, ... }: {
    environment.systemPackages = [ pkgs.cowsay ];
  };

  testScript = ''
    machine.succeed("cowsay moo")
  '';
})
