using System.Diagnostics;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// Issue 11, finding 8: the README's "Using the library" code is samples/ScrapeDo.Lean.LibrarySample (the README
/// shows its marked region verbatim, checked by ReadmeSnippetTests); here it runs, as a user would run it, against
/// the emulator. It once threw (a journaled runner reused for other input) and wrote an empty page.html.
/// </summary>
public sealed class LibrarySampleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-sample-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>The sample as built in its own folder (bin/CONFIG/TFM, like this test's), where its dependencies are.</summary>
    private static string SampleAssembly()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        DirectoryInfo root = testBin;
        while (!File.Exists(Path.Combine(root.FullName, "ScrapeDo.Lean.sln")))
        {
            root = root.Parent ?? throw new InvalidOperationException("ScrapeDo.Lean.sln not found above the test directory.");
        }

        // .../tests/ScrapeDo.Lean.IntegrationTests/bin/Release/net10.0 → .../samples/ScrapeDo.Lean.LibrarySample/bin/Release/net10.0
        string tfm = testBin.Name, configuration = testBin.Parent!.Name;
        return Path.Combine(root.FullName, "samples", "ScrapeDo.Lean.LibrarySample", "bin", configuration, tfm, "ScrapeDo.Lean.LibrarySample.dll");
    }

    [Fact]
    public async Task The_readme_library_code_runs_to_the_end_against_the_emulator_and_writes_the_page()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            ContentBytes = 700,
            TaskLatencyMin = TimeSpan.FromMilliseconds(300),
            TaskLatencyMax = TimeSpan.FromMilliseconds(600),
        });
        File.WriteAllLines(Path.Combine(_dir, "urls.txt"), Support.Urls(3, "https://sample.example/p"));
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _dir };
        start.ArgumentList.Add(SampleAssembly());
        start.Environment["SCRAPEDO_TOKEN"] = EmulatorOptions.DefaultToken;
        start.Environment["SCRAPEDO_BASE_URL"] = emulator.BaseAddress.ToString();

        using Process sample = Process.Start(start)!;
        Task<string> stdout = sample.StandardOutput.ReadToEndAsync();
        Task<string> stderr = sample.StandardError.ReadToEndAsync();
        await sample.WaitForExitAsync(Support.Timeout(60));

        Assert.True(sample.ExitCode == 0, $"exit {sample.ExitCode}: {await stderr}");
        Assert.Equal(700, new FileInfo(Path.Combine(_dir, "page.html")).Length);
        string[] lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Count(l => l.StartsWith("https://sample.example/p", StringComparison.Ordinal) && l.Contains(": success 200", StringComparison.Ordinal)));
        Assert.Single(lines, l => l.Contains("B0C7BKZ883", StringComparison.Ordinal));
        // The leased contents of the same three targets, one after another (the journal is not used by this runner).
        Assert.Equal(3 * 700, new FileInfo(Path.Combine(_dir, "contents.bin")).Length);
        // The second task of the hand-made job, read as a lease.
        Assert.Equal(700, new FileInfo(Path.Combine(_dir, "page2.html")).Length);
    }
}
