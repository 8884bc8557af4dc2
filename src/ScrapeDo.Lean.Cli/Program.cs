using ScrapeDo.Lean.Cli;

return await CliApp.RunAsync(args, new CliConsole(Console.Out, Console.Error, Console.OpenStandardInput, Console.OpenStandardOutput, !Console.IsErrorRedirected));
