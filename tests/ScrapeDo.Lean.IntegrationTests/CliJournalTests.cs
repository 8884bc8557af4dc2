using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Cli;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>Issue 11 #1 and #3 through the CLI: a full disk loses no record, and a resume writes none twice.</summary>
public sealed class CliJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-clij-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Code, string Error)> RunCliAsync(params string[] args)
    {
        CliResult result = await CliHarness.RunAsync(args);
        return (result.ExitCode, result.Error);
    }

    private static List<string> Targets(string output) =>
        File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("target").GetString()!).ToList();

    private string Input(int count, string prefix)
    {
        string path = Path.Combine(_dir, "urls.txt");
        File.WriteAllText(path, string.Join('\n', Support.Urls(count, prefix)) + "\n");
        return path;
    }

    [Fact]
    public async Task A_full_disk_on_the_output_stops_with_one_line_and_the_resume_gives_exactly_one_record_per_target()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 512 });
        const int Count = 300;
        string input = Input(Count, "https://full.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] args = ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "100", "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        string full = Path.GetFullPath(output);
        // About 100 records fit; the one that crosses the limit is torn, as on a full disk.
        RecordWriter.TestStreamWrapper = (path, s) => path == full ? new FailingStream(s, 100 * 1000) : s;
        (int Code, string Error) first;
        try
        {
            first = await RunCliAsync(args);
        }
        finally
        {
            RecordWriter.TestStreamWrapper = null;
        }

        Assert.Equal(ExitCodes.Fatal, first.Code);
        Assert.Contains("No space left on device", first.Error, StringComparison.Ordinal);
        Assert.Single(first.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.ReadAllText(output).EndsWith('\n'), "the failing write should have torn the last record");

        var resumed = await RunCliAsync([.. args, "--resume"]);

        Assert.Equal(ExitCodes.Success, resumed.Code);
        List<string> targets = Targets(output);
        Assert.Equal(Count, targets.Count);
        Assert.Equal(Count, targets.Distinct().Count());
        Assert.Equal(3, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task Resume_counts_records_larger_than_its_read_chunk_and_drops_the_torn_one()
    {
        // Records of about 200 KB each: every one spans several of the 64 KiB chunks the resume reads the output in,
        // and the full disk tears one mid-content. The output is scanned, never read whole.
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 150_000 });
        const int Count = 8;
        string input = Input(Count, "https://large.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string[] args = ["run", input, "-o", output, "--journal", Path.Combine(_dir, "run.journal"), "--targets-per-job", "4", "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        string full = Path.GetFullPath(output);
        RecordWriter.TestStreamWrapper = (path, s) => path == full ? new FailingStream(s, 700_000) : s;
        try
        {
            Assert.Equal(ExitCodes.Fatal, (await RunCliAsync(args)).Code);
        }
        finally
        {
            RecordWriter.TestStreamWrapper = null;
        }

        Assert.False(File.ReadAllText(output).EndsWith('\n'), "the failing write should have torn the last record");

        Assert.Equal(ExitCodes.Success, (await RunCliAsync([.. args, "--resume"])).Code);
        List<string> targets = Targets(output);
        Assert.Equal(Count, targets.Count);
        Assert.Equal(Count, targets.Distinct().Count());
    }

    [Fact]
    public async Task A_resume_exits_2_when_records_written_before_it_did_not_succeed()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string input = Path.Combine(_dir, "urls.txt");
        File.WriteAllText(input, "https://prior.example/ok1\nhttps://prior.example/bad?emulate=error\nhttps://prior.example/ok2\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string[] args = ["run", input, "-o", output, "--journal", Path.Combine(_dir, "run.journal"), "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        Assert.Equal(ExitCodes.SomeFailed, (await RunCliAsync(args)).Code);
        long jobs = emulator.Counters.Jobs;

        // Every target is journaled as delivered: the resume sends nothing and writes nothing, and its exit code still
        // covers the error written by the first run (design.md: 0 only when every target succeeded).
        var resumed = await RunCliAsync([.. args, "--resume"]);

        Assert.Equal(ExitCodes.SomeFailed, resumed.Code);
        Assert.Contains("(+3 from before the resume, 1 of them not succeeded)", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(jobs, emulator.Counters.Jobs);
        Assert.Equal(3, File.ReadAllLines(output).Length);
    }

    [Fact]
    public async Task Resume_refuses_an_output_whose_line_is_not_a_record_in_one_line()
    {
        string input = Input(2, "https://bad.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        File.WriteAllText(output, "{\"target\":\"https://bad.example/p0\",\"status\":\"success\"}\n{\"status\":\"success\",\"target\":\"x\"}\n");
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions());

        var result = await RunCliAsync("run", input, "-o", output, "--journal", Path.Combine(_dir, "run.journal"), "--resume", "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken);

        Assert.Equal(ExitCodes.Fatal, result.Code);
        Assert.Contains("is not a JSONL record", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(0, emulator.Counters.Jobs);
    }

    [Fact]
    public async Task Records_written_but_not_acknowledged_are_not_written_again_when_the_resumed_outcome_differs()
    {
        const int Count = 50;
        string input = Input(Count, "https://dedupe.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] Args(ScrapeDoEmulator e) => ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "10", "--quiet", "--base-url", e.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        await using (var emulator = await ScrapeDoEmulator.StartAsync())
        {
            Assert.Equal(ExitCodes.Success, (await RunCliAsync(Args(emulator))).Code);
        }

        // A crash between flushing the sink and journaling its batch: the last 15 records are written, not acknowledged.
        string[] lines = File.ReadAllLines(journal);
        var doneLines = lines.Select((l, i) => (l, i)).Where(p => p.l.Contains("\"t\":\"done\"", StringComparison.Ordinal)).Select(p => p.i).ToList();
        var dropped = doneLines.TakeLast(15).ToHashSet();
        File.WriteAllLines(journal, lines.Where((_, i) => !dropped.Contains(i)));

        // Its jobs are gone (another server, as with the in-process emulator): the resumed outcomes differ.
        await using (var other = await ScrapeDoEmulator.StartAsync())
        {
            var resumed = await RunCliAsync([.. Args(other), "--resume"]);
            Assert.True(resumed.Code is ExitCodes.Success or ExitCodes.SomeFailed, resumed.Error);
        }

        List<string> targets = Targets(output);
        Assert.Equal(Count, targets.Count);
        Assert.Equal(Count, targets.Distinct().Count());
    }

    /// <summary>A quiet run of 12 targets against <paramref name="emulator"/> with its output and journal in this test's folder.</summary>
    private (string Output, string[] Args) JournaledRun(ScrapeDoEmulator emulator, string prefix)
    {
        string output = Path.Combine(_dir, "out.jsonl");
        return (output, ["run", Input(12, prefix), "-o", output, "--journal", Path.Combine(_dir, "run.journal"), "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken]);
    }

    [Fact]
    public async Task A_tail_of_zeros_left_by_a_power_loss_is_cut_like_a_torn_record_and_the_resume_goes_on()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (string output, string[] args) = JournaledRun(emulator, "https://zeros.example/p");
        // Stopped at a budget, so the resume has targets left to write.
        Assert.Equal(CostOptions.ExitCreditStop, (await RunCliAsync([.. args, "--max-credits", "4", "--targets-per-job", "2"])).Code);
        int before = (await File.ReadAllLinesAsync(output)).Length;
        // What a file system often leaves after a power loss: the size grew, the data never came.
        await using (FileStream file = new(output, FileMode.Append))
        {
            file.Write(new byte[4096]);
        }

        var resumed = await RunCliAsync([.. args, "--resume", "--targets-per-job", "2"]);

        Assert.Equal(ExitCodes.Success, resumed.Code);
        string[] lines = await File.ReadAllLinesAsync(output);
        Assert.Equal(4, before);
        Assert.Equal(12, lines.Length);
        Assert.All(lines, l => Assert.StartsWith("{\"target\":", l, StringComparison.Ordinal));
        Assert.Equal(12, lines.Distinct().Count());
    }

    [Fact]
    public async Task Resume_into_another_runs_output_is_refused_before_anything_is_sent()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (string output, string[] args) = JournaledRun(emulator, "https://twice.example/p");
        Assert.Equal(ExitCodes.Success, (await RunCliAsync(args)).Code);
        // A second run of the same input with its own journal and output: same targets, other jobs.
        string otherOutput = Path.Combine(_dir, "other.jsonl");
        string[] other = [.. args.Select(a => a == output ? otherOutput : a.EndsWith("run.journal", StringComparison.Ordinal) ? Path.Combine(_dir, "other.journal") : a)];
        Assert.Equal(ExitCodes.Success, (await RunCliAsync(other)).Code);
        string written = await File.ReadAllTextAsync(otherOutput);
        long requests = emulator.Counters.TotalRequests;

        // The first run's journal with the second run's output: every target has a record, none of its jobs.
        string[] mixed = [.. args.Select(a => a == output ? otherOutput : a), "--resume"];
        var refused = await RunCliAsync(mixed);

        Assert.Equal(ExitCodes.Fatal, refused.Code);
        string line = Assert.Single(refused.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"--output '{otherOutput}' holds a record of job ", line, StringComparison.Ordinal);
        Assert.Contains("which --journal", line, StringComparison.Ordinal);
        Assert.Equal(requests, emulator.Counters.TotalRequests);
        Assert.Equal(written, await File.ReadAllTextAsync(otherOutput));
        // Its own output still resumes (nothing left to do).
        Assert.Equal(ExitCodes.Success, (await RunCliAsync([.. args, "--resume"])).Code);
    }

    [Fact]
    public async Task Resume_with_a_shorter_input_says_the_journaled_jobs_past_its_end_were_not_delivered()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (string output, string[] args) = JournaledRun(emulator, "https://short.example/p");
        string input = args[1];
        Assert.Equal(ExitCodes.Success, (await RunCliAsync([.. args, "--targets-per-job", "5"])).Code);
        long creates = emulator.Counters.Creates;
        await File.WriteAllLinesAsync(input, (await File.ReadAllLinesAsync(input)).Take(5));

        var resumed = await RunCliAsync([.. args, "--resume"]);

        Assert.Equal(ExitCodes.Fatal, resumed.Code);
        Assert.Contains("The input ended after 1 job(s) of targets, but the journal records jobs up to job 3: a resume must read the same input", resumed.Error, StringComparison.Ordinal);
        Assert.Equal(creates, emulator.Counters.Creates);
        Assert.Equal(12, (await File.ReadAllLinesAsync(output)).Length);
    }

    [Fact]
    public async Task Resume_of_a_journal_a_live_run_holds_says_so_before_reading_its_output()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (string output, string[] args) = JournaledRun(emulator, "https://live.example/p");
        Assert.Equal(ExitCodes.Success, (await RunCliAsync(args)).Code);
        string journal = args[Array.IndexOf(args, "--journal") + 1];
        long requests = emulator.Counters.TotalRequests;

        // The lock as a live run holds it (flock through FileShare.None); output records of its newer jobs would
        // otherwise read as another run's.
        await using (new FileStream(journal + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose))
        {
            var held = await RunCliAsync([.. args, "--resume"]);
            Assert.Equal(ExitCodes.Fatal, held.Code);
            Assert.Contains($"--journal '{journal}' is in use by another run", Assert.Single(held.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);

            // A new run on it says the same, naming the flag, before anything else about the journal.
            var fresh = await RunCliAsync(args);
            Assert.Equal(ExitCodes.Fatal, fresh.Code);
            Assert.Contains($"--journal '{journal}' is in use by another run", Assert.Single(fresh.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        }

        Assert.Equal(requests, emulator.Counters.TotalRequests);
        // A lock file left by a killed run is not held: it resumes.
        await File.WriteAllTextAsync(journal + ".lock", "");
        Assert.Equal(ExitCodes.Success, (await RunCliAsync([.. args, "--resume"])).Code);
        Assert.Equal(12, (await File.ReadAllLinesAsync(output)).Length);
    }

    [Fact]
    public async Task Resume_takes_the_journals_targets_per_job_and_refuses_another_before_sending_anything()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (string output, string[] args) = JournaledRun(emulator, "https://chunks.example/p");
        Assert.Equal(ExitCodes.Success, (await RunCliAsync([.. args, "--targets-per-job", "5"])).Code);
        long creates = emulator.Counters.Creates;
        long requests = emulator.Counters.TotalRequests;
        Assert.Equal(3, creates);

        var other = await RunCliAsync([.. args, "--targets-per-job", "7", "--resume"]);
        Assert.Equal(ExitCodes.Fatal, other.Code);
        Assert.Single(other.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("--targets-per-job 7: --journal", other.Error, StringComparison.Ordinal);
        Assert.Contains("written with 5 targets per job", other.Error, StringComparison.Ordinal);
        Assert.Equal(requests, emulator.Counters.TotalRequests);

        // Without the option the resume runs with the journal's 5 (the default 1000 was refused before), finds
        // nothing left to do and creates nothing.
        var same = await RunCliAsync([.. args, "--resume"]);
        Assert.Equal(ExitCodes.Success, same.Code);
        Assert.Equal(creates, emulator.Counters.Creates);
        Assert.Equal(12, (await File.ReadAllLinesAsync(output)).Length);
    }

    [Fact]
    public async Task Resume_with_other_job_options_exits_1_with_one_line_and_sends_nothing()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        (string output, string[] run) = JournaledRun(emulator, "https://options.example/p");
        string[] args = [.. run, "--targets-per-job", "5"];
        Assert.Equal(ExitCodes.Success, (await RunCliAsync(args)).Code);
        long creates = emulator.Counters.Creates;
        string written = await File.ReadAllTextAsync(output);

        foreach ((string[] changed, string named) in new[] { (new[] { "--render" }, "(Render changed)"), (["--render", "--geo-code", "de"], "(GeoCode and Render changed)"), (["--header", "X-Test:1"], "(Headers changed)") })
        {
            var resumed = await RunCliAsync([.. args, "--resume", .. changed]);
            Assert.Equal(ExitCodes.Fatal, resumed.Code);
            Assert.Single(resumed.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("scrapedo: error: The job options differ from those the journal", resumed.Error, StringComparison.Ordinal);
            Assert.Contains(named, resumed.Error, StringComparison.Ordinal);
        }

        // Nothing was sent or written, and the same options still resume (with nothing left to do).
        Assert.Equal(creates, emulator.Counters.Creates);
        Assert.Equal(written, await File.ReadAllTextAsync(output));
        Assert.Equal(ExitCodes.Success, (await RunCliAsync([.. args, "--resume"])).Code);
        Assert.Equal(creates, emulator.Counters.Creates);
    }

    [Fact]
    public async Task Ctrl_C_then_resume_continues_the_canceled_targets_and_the_summary_counts_them()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("again-token", "hobby")],
            TaskLatencyMin = TimeSpan.FromMilliseconds(300),
            TaskLatencyMax = TimeSpan.FromMilliseconds(1500),
        });
        const int Count = 40;
        string input = Input(Count, "https://again.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] args = ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "20", "--base-url", emulator.BaseAddress.ToString(), "--token", "again-token"];
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scrapedo.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using (var child = System.Diagnostics.Process.Start(start)!)
        {
            Task<string> stderr = child.StandardError.ReadToEndAsync();
            var ct = Support.Timeout(60);
            while (emulator.Counters.JobPolls < 2 && !child.HasExited)
            {
                await Task.Delay(10, ct);
            }

            Assert.False(child.HasExited, "the run ended before it could be interrupted");
            using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
            {
                await kill.WaitForExitAsync(ct);
            }

            await child.WaitForExitAsync(ct);
            Assert.Equal(ExitCodes.Interrupted, child.ExitCode);
            Assert.Contains("--resume", await stderr, StringComparison.Ordinal);
        }

        Assert.True(emulator.Counters.Cancels >= 1, "the interrupt canceled the server jobs");
        var resumed = await RunCliAsync([.. args, "--resume"]);

        // The resume continued: every line has one record and none is the interrupt's cancel.
        Assert.Equal(ExitCodes.Success, resumed.Code);
        var records = File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        Assert.Equal(Count, records.Count);
        Assert.Equal(Count, records.Select(r => r.GetProperty("target").GetString()).Distinct().Count());
        Assert.All(records, r => Assert.Equal("success", r.GetProperty("status").GetString()));
        Assert.Matches(@"\d+ targets resubmitted after the earlier interrupt", resumed.Error);
    }

    /// <summary>
    /// Walkthrough finding 1a: a finished run resumed with another --output wrote nothing and exited 0. The journal
    /// records every record as delivered, so an output without them is not the run's: refused before any request.
    /// </summary>
    [Fact]
    public async Task A_resume_with_another_output_is_refused_before_any_request()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string input = Input(5, "https://other.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] Args(string o) => ["run", input, "-o", o, "--journal", journal, "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        Assert.Equal(ExitCodes.Success, (await RunCliAsync(Args(output))).Code);
        long requests = emulator.Counters.TotalRequests;
        string other = Path.Combine(_dir, "other.jsonl");

        var resumed = await RunCliAsync([.. Args(other), "--resume"]);

        Assert.Equal(ExitCodes.Fatal, resumed.Code);
        Assert.Contains($"--output '{other}' does not exist but --journal '{journal}' records 5 delivered: resume with the --output of the interrupted run.", resumed.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(other), "the refused resume created its --output");
        Assert.Equal(requests, emulator.Counters.TotalRequests);
    }

    /// <summary>
    /// Walkthrough finding 1b: an interrupted run whose output was deleted or cut short resumed into it and lost the
    /// records written before, silently. Fewer records than the journal's deliveries is refused, and the file (torn
    /// last line included) is left exactly as it was.
    /// </summary>
    [Fact]
    public async Task A_resume_into_an_output_with_fewer_records_than_the_journal_delivered_is_refused_and_leaves_it_unchanged()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        const int Count = 30;
        string input = Input(Count, "https://short.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] args = ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "10", "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        Assert.Equal(ExitCodes.Success, (await RunCliAsync(args)).Code);
        string[] records = File.ReadAllLines(output);
        // 12 whole records and a torn one: what is left of an output cut short after the run acknowledged all 30.
        string cut = string.Join('\n', records.Take(12)) + "\n" + records[12][..20];
        File.WriteAllText(output, cut);
        long requests = emulator.Counters.TotalRequests;

        var resumed = await RunCliAsync([.. args, "--resume"]);

        Assert.Equal(ExitCodes.Fatal, resumed.Code);
        Assert.Contains($"--output '{output}' holds 12 records but --journal '{journal}' records {Count} delivered: resume with the --output of the interrupted run.", resumed.Error, StringComparison.Ordinal);
        Assert.Single(resumed.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(cut, File.ReadAllText(output));
        Assert.Equal(requests, emulator.Counters.TotalRequests);
    }

    /// <summary>
    /// Walkthrough finding 1, last part: --resume with a journal path that does not exist started a new run, which for
    /// a mistyped path creates every job again (billed twice). design.md's --resume continues a run; there is none.
    /// </summary>
    [Fact]
    public async Task A_resume_whose_journal_does_not_exist_is_refused_before_any_request()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string input = Input(3, "https://nojournal.example/p");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "typo.journal");

        var resumed = await RunCliAsync("run", input, "-o", output, "--journal", journal, "--resume", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken);

        Assert.Equal(ExitCodes.Fatal, resumed.Code);
        Assert.Contains($"--resume: --journal '{journal}' does not exist, so there is no run to continue.", resumed.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(journal));
        Assert.False(File.Exists(output));
        Assert.Equal(0, emulator.Counters.TotalRequests);
    }

    [Fact]
    public async Task Two_long_refused_lines_alike_in_their_first_200_characters_each_keep_a_record_across_a_crash_between_them()
    {
        // Found by a review (session 19): both records then named their line by the same 200-character excerpt, which
        // the resume counted against no input line, so once the first record was in --output the second was never
        // written. (Such records now carry the whole line; the resume's key for long targets is still the excerpt.)
        string stem = "https://long.example/" + new string('a', 200);
        (ScrapeDoEmulator emulator, string[] args, string output, string journal) = await JournaledRunAsync(["https://ok.example/p/0", stem + " one", stem + " two", "https://ok.example/p/1"]);
        await using ScrapeDoEmulator running = emulator;
        Assert.Equal(4, File.ReadAllLines(output).Length);

        // The state a crash leaves between the two records: line 3's record neither in --output nor acknowledged.
        File.WriteAllLines(output, File.ReadAllLines(output).Where(l => !l.Contains("\"error\":\"line 3:", StringComparison.Ordinal)));
        string[] journaled = File.ReadAllLines(journal);
        Assert.Contains("{\"t\":\"done\",\"x\":2}", journaled);
        File.WriteAllLines(journal, journaled.Where(l => l != "{\"t\":\"done\",\"x\":2}"));

        CliResult resumed = await CliHarness.RunAsync([.. args, "--resume"]);

        Assert.True(resumed.ExitCode == ExitCodes.SomeFailed, resumed.Error);
        string[] records = File.ReadAllLines(output);
        Assert.Equal(4, records.Length);
        Assert.Single(records, l => l.Contains("\"error\":\"line 2:", StringComparison.Ordinal));
        Assert.Single(records, l => l.Contains("\"error\":\"line 3:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Long_lines_written_but_not_acknowledged_are_not_written_again_on_resume()
    {
        // Every record written, none acknowledged (a crash between the flush and the journal's "done"): a refused line
        // named by its excerpt, one whose excerpt ends where an emoji's surrogate pair would be cut (it was written with
        // U+FFFD there and matched no excerpt of its line), and a task whose URL is longer than the excerpt, are each
        // written once, not twice.
        string refused = "https://long.example/" + new string('a', 140) + " " + new string('b', 140);
        string emoji = "https://x.example/" + new string('a', 181) + "\U0001F600 and more words after it";
        string longUrl = "https://long.example/" + new string('c', 300);
        (ScrapeDoEmulator emulator, string[] args, string output, string journal) = await JournaledRunAsync([.. Support.Urls(4, "https://ok.example/p"), refused, emoji, longUrl]);
        await using ScrapeDoEmulator running = emulator;
        string[] written = File.ReadAllLines(output);
        Assert.Equal(7, written.Length);
        Assert.DoesNotContain(written, l => l.Contains("\\uFFFD", StringComparison.Ordinal));
        File.WriteAllLines(journal, File.ReadAllLines(journal).Where(l => !l.Contains("\"t\":\"done\"", StringComparison.Ordinal)));

        CliResult resumed = await CliHarness.RunAsync([.. args, "--resume"]);

        Assert.True(resumed.ExitCode == ExitCodes.SomeFailed, resumed.Error);
        Assert.Equal(written, File.ReadAllLines(output));
    }

    [Fact]
    public async Task Two_long_urls_alike_in_their_first_200_characters_each_keep_one_record_across_a_crash()
    {
        // Found by the session's own review: keyed by its 200-character excerpt, the resume counted both URLs under one
        // key, wrote the first a second record and skipped the second.
        string stem = "https://long.example/" + new string('a', 200);
        string input = Path.Combine(_dir, "urls.txt");
        File.WriteAllText(input, $"{stem}?p=1\n{stem}?p=2\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string[] args = ["run", input, "-o", output, "--journal", journal, "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        CliResult first = await CliHarness.RunAsync(args);
        Assert.True(first.ExitCode == ExitCodes.Success, first.Error);
        File.WriteAllLines(output, File.ReadAllLines(output).Where(l => !l.Contains("?p=2", StringComparison.Ordinal)));
        File.WriteAllLines(journal, File.ReadAllLines(journal).Where(l => !l.Contains("\"t\":\"done\"", StringComparison.Ordinal)));

        CliResult resumed = await CliHarness.RunAsync([.. args, "--resume"]);

        Assert.True(resumed.ExitCode == ExitCodes.Success, resumed.Error);
        string[] records = File.ReadAllLines(output);
        Assert.Single(records, l => l.Contains("?p=1", StringComparison.Ordinal));
        Assert.Single(records, l => l.Contains("?p=2", StringComparison.Ordinal));
    }

    /// <summary>
    /// A journaled CLI run of <paramref name="lines"/> against an emulator it leaves running (for the resume), which
    /// ends with some targets failed.
    /// </summary>
    private async Task<(ScrapeDoEmulator Emulator, string[] Args, string Output, string Journal)> JournaledRunAsync(string[] lines)
    {
        string input = Path.Combine(_dir, "urls.txt");
        File.WriteAllText(input, string.Join('\n', lines) + "\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync();
        string[] args = ["run", input, "-o", output, "--journal", journal, "--quiet", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        CliResult first = await CliHarness.RunAsync(args);
        Assert.Equal(ExitCodes.SomeFailed, first.ExitCode);
        return (emulator, args, output, journal);
    }
}
