using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ScrapeDo.Lean.Cli;
using ScrapeDo.Lean.Emulator;

namespace ScrapeDo.Lean.IntegrationTests;

public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("scrapedo-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);


    private static Task<CliResult> RunCliAsync(params string[] args) => CliHarness.RunAsync(args);

    private string File(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    private static List<JsonElement> Records(string path) =>
        System.IO.File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    [Fact]
    public async Task Run_with_mixed_outcomes_writes_the_exact_record_contract_and_exits_2()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 300 });
        string input = File("urls.txt", "# comment\n\nhttps://a.example/ok\nhttps://a.example/bad?emulate=error\nnot a url\nhttps://a.example/pic.png\n");
        string output = Path.Combine(_dir, "out.jsonl");

        CliResult result = await RunCliAsync("run", input, "--output", output, "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken);

        Assert.Equal(ExitCodes.SomeFailed, result.ExitCode);
        string[] lines = System.IO.File.ReadAllLines(output);
        Assert.Equal(4, lines.Length);
        foreach (string line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            Assert.Equal(["target", "jobId", "taskId", "status", "statusCode", "base64", "content", "contentFile", "error"], doc.RootElement.EnumerateObject().Select(p => p.Name));
        }

        var byTarget = Records(output).ToDictionary(r => r.GetProperty("target").GetString()!);
        JsonElement ok = byTarget["https://a.example/ok"];
        Assert.Equal("success", ok.GetProperty("status").GetString());
        Assert.Equal(200, ok.GetProperty("statusCode").GetInt32());
        Assert.False(ok.GetProperty("base64").GetBoolean());
        Assert.Equal(300, Encoding.UTF8.GetByteCount(ok.GetProperty("content").GetString()!));
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("error").ValueKind);
        Assert.Equal(JsonValueKind.Null, ok.GetProperty("contentFile").ValueKind);

        JsonElement bad = byTarget["https://a.example/bad?emulate=error"];
        Assert.Equal("error", bad.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(bad.GetProperty("error").GetString()));

        JsonElement invalid = byTarget["not a url"];
        Assert.Equal("failed", invalid.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, invalid.GetProperty("jobId").ValueKind);
        Assert.StartsWith("line 5: ", invalid.GetProperty("error").GetString());

        JsonElement pic = byTarget["https://a.example/pic.png"];
        Assert.True(pic.GetProperty("base64").GetBoolean());
        Assert.Equal(300, Convert.FromBase64String(pic.GetProperty("content").GetString()!).Length);
        Assert.Contains("done: 4 records: 2 success, 1 error, 0 canceled, 0 expired, 1 failed", result.Error);
    }

    [Fact]
    public async Task All_success_exits_0_and_content_dir_gets_byte_exact_decoded_files()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { ContentBytes = 5000 });
        string input = File("urls.txt", "https://a.example/page\nhttps://a.example/file.bin\nhttps://a.example/logo.PNG\nhttps://a.example/doc.pdf\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string contentDir = Path.Combine(_dir, "content");

        CliResult result = await RunCliAsync("run", input, "-o", output, "--content-dir", contentDir, "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken, "--quiet");
        // Each file is named by its task and typed by the target's Content-Type (the emulator's, by the path's suffix).
        var expected = new Dictionary<string, string>
        {
            ["https://a.example/page"] = ".html",
            ["https://a.example/file.bin"] = ".bin",
            ["https://a.example/logo.PNG"] = ".png",
            ["https://a.example/doc.pdf"] = ".pdf",
        };

        Assert.Equal(ExitCodes.Success, result.ExitCode);
        Assert.Equal("", result.Error);
        using var client = Support.Client(emulator);
        foreach (JsonElement record in Records(output))
        {
            Assert.Equal(JsonValueKind.Null, record.GetProperty("content").ValueKind);
            string file = record.GetProperty("contentFile").GetString()!;
            TaskDetails details = await client.GetTaskAsync(record.GetProperty("jobId").GetString()!, record.GetProperty("taskId").GetString()!, Support.Timeout());
            Assert.Equal(details.GetContentBytes(), await System.IO.File.ReadAllBytesAsync(file));
            Assert.Equal(record.GetProperty("taskId").GetString() + expected[record.GetProperty("target").GetString()!], Path.GetFileName(file));
        }
    }

    [Fact]
    public async Task Plugin_run_keeps_the_params_object_as_target_and_names_bad_lines()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string input = File("asins.jsonl", "{\"asin\":\"B0C7BKZ883\",\"geocode\":\"us\",\"zipcode\":\"10001\"}\n{broken\n{\"asin\":\"B09G9FPHY6\",\"geocode\":\"us\",\"zipcode\":\"10001\"}\n");
        string output = Path.Combine(_dir, "out.jsonl");

        CliResult result = await RunCliAsync("run", input, "--plugin", "amazon/pdp", "-o", output, "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken);

        Assert.Equal(ExitCodes.SomeFailed, result.ExitCode);
        var records = Records(output);
        Assert.Equal(3, records.Count);
        var objects = records.Where(r => r.GetProperty("target").ValueKind == JsonValueKind.Object).ToList();
        Assert.Equal(2, objects.Count);
        Assert.All(objects, r => Assert.Equal("success", r.GetProperty("status").GetString()));
        Assert.All(objects, r => Assert.Contains(r.GetProperty("target").GetProperty("asin").GetString()!, r.GetProperty("content").GetString()));
        JsonElement broken = records.Single(r => r.GetProperty("target").ValueKind == JsonValueKind.String);
        Assert.Equal("{broken", broken.GetProperty("target").GetString());
        Assert.StartsWith("line 2: not valid JSON; with --plugin each line is one JSON object", broken.GetProperty("error").GetString());
        // The parser's position text is .NET's wording, not the user's.
        Assert.DoesNotContain("BytePositionInLine", broken.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_network_failure_reads_the_same_for_run_account_and_job_get_naming_host_port_and_cause()
    {
        const string Token = "network-test-token";
        string input = File("urls.txt", "https://a.example/\n");
        int closedPort = ClosedPort();
        string url = $"http://127.0.0.1:{closedPort}/";
        CliResult run = await RunCliAsync("run", input, "--base-url", url, "--token", Token);
        CliResult account = await RunCliAsync("account", "--base-url", url, "--token", Token);
        CliResult job = await RunCliAsync("job", "get", "9f0c5a3e-1b2d-4c5e-8f70-123456789abc", "--base-url", url, "--token", Token);

        string expected = $"scrapedo: error: cannot reach the API at {url}: connecting to 127.0.0.1:{closedPort} failed (4 attempts): Connection refused. Check --base-url and the network.";
        foreach (CliResult result in new[] { run, account, job })
        {
            Assert.Equal(ExitCodes.Fatal, result.ExitCode);
            Assert.Equal(expected, result.Error.Trim());
        }

        // TLS spoken to a plain-http server: the cause is the handshake's, not "see inner exception".
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string tlsUrl = $"https://127.0.0.1:{emulator.BaseAddress.Port}/";
        CliResult tlsAccount = await RunCliAsync("account", "--base-url", tlsUrl, "--token", Token);
        CliResult tlsRun = await RunCliAsync("run", input, "--base-url", tlsUrl, "--token", Token);
        Assert.Equal(tlsAccount.Error, tlsRun.Error);
        Assert.StartsWith($"scrapedo: error: cannot reach the API at {tlsUrl}: the TLS handshake with 127.0.0.1:{emulator.BaseAddress.Port} failed", tlsAccount.Error);
        Assert.DoesNotContain("inner exception", tlsAccount.Error, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Exception", tlsAccount.Error);
        Assert.DoesNotContain(Token, run.Error + account.Error + job.Error + tlsAccount.Error + tlsRun.Error);
    }

    [Fact]
    public async Task Bad_token_unreachable_server_missing_file_and_plain_http_each_exit_1_with_one_line()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string input = File("urls.txt", "https://a.example/\n");

        CliResult badToken = await RunCliAsync("run", input, "--base-url", emulator.BaseAddress.ToString(), "--token", "not-the-token-xyz");
        Assert.Equal(ExitCodes.Fatal, badToken.ExitCode);
        Assert.Equal("scrapedo: error: the API refused the token (401 Unauthorized). Check --token or SCRAPEDO_TOKEN.", badToken.Error.Trim());
        Assert.DoesNotContain("not-the-token-xyz", badToken.Error + badToken.Out);

        int closedPort = ClosedPort();
        CliResult unreachable = await RunCliAsync("run", input, "--base-url", $"http://127.0.0.1:{closedPort}/", "--token", "t");
        Assert.Equal(ExitCodes.Fatal, unreachable.ExitCode);
        Assert.StartsWith($"scrapedo: error: cannot reach the API at http://127.0.0.1:{closedPort}/", unreachable.Error.Trim());
        Assert.Single(unreachable.Error.Trim().Split('\n'));

        CliResult missing = await RunCliAsync("run", Path.Combine(_dir, "nope.txt"), "--emulate");
        Assert.Equal(ExitCodes.Fatal, missing.ExitCode);
        Assert.Contains("input file", missing.Error);
        Assert.Contains("not found", missing.Error);

        CliResult plain = await RunCliAsync("account", "--base-url", "http://api.example.com/", "--token", "t");
        Assert.Equal(ExitCodes.Fatal, plain.ExitCode);
        Assert.Contains("Plain http:// is refused", plain.Error);

        CliResult noToken = await RunCliAsync("account", "--base-url", "https://q.example.test/");
        Assert.Equal(ExitCodes.Fatal, noToken.ExitCode);
        Assert.Contains("no API token", noToken.Error);

        foreach (CliResult r in new[] { badToken, unreachable, missing, plain, noToken })
        {
            Assert.DoesNotContain("   at ", r.Error);
        }
    }

    [Fact]
    public async Task Endpoint_commands_print_the_api_json()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync();
        string[] conn = ["--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        CliResult created = await RunCliAsync(["job", "create", "--target", "https://a.example/1", "--target", "https://a.example/2", "--device", "mobile", .. conn]);
        Assert.Equal(0, created.ExitCode);
        using var createdDoc = JsonDocument.Parse(created.Out);
        string jobId = createdDoc.RootElement.GetProperty("JobID").GetString()!;
        string taskId = createdDoc.RootElement.GetProperty("TaskIDs")[0].GetString()!;

        CliResult job = await RunCliAsync(["job", "get", jobId, .. conn]);
        Assert.Equal(jobId, JsonDocument.Parse(job.Out).RootElement.GetProperty("JobID").GetString());

        string contentFile = Path.Combine(_dir, "page.html");
        CliResult task = await RunCliAsync(["task", "get", jobId, taskId, "--content-out", contentFile, .. conn]);
        Assert.Equal(0, task.ExitCode);
        Assert.Equal(taskId, JsonDocument.Parse(task.Out).RootElement.GetProperty("TaskID").GetString());
        Assert.StartsWith("<!doctype html>", await System.IO.File.ReadAllTextAsync(contentFile));

        CliResult list = await RunCliAsync(["job", "list", "--page-size", "5", .. conn]);
        Assert.Equal(1, JsonDocument.Parse(list.Out).RootElement.GetProperty("TotalCount").GetInt32());

        CliResult account = await RunCliAsync(["account", .. conn]);
        Assert.Equal(5, JsonDocument.Parse(account.Out).RootElement.GetProperty("TotalConcurrency").GetInt32());
        Assert.True(JsonDocument.Parse(account.Out).RootElement.TryGetProperty("AvaliableCredits", out _));

        CliResult cancel = await RunCliAsync(["job", "cancel", jobId, .. conn]);
        Assert.Equal(ExitCodes.Fatal, cancel.ExitCode);
        Assert.Contains($"the API refused canceling job {jobId} (406 Not Acceptable): ", cancel.Error, StringComparison.Ordinal);

        string unknown = Guid.NewGuid().ToString();
        CliResult notFound = await RunCliAsync(["job", "get", unknown, .. conn]);
        Assert.Equal(ExitCodes.Fatal, notFound.ExitCode);
        Assert.Contains($"the API refused reading job {unknown} (404 Not Found): ", notFound.Error, StringComparison.Ordinal);
        // The user's terms, not the library's method and status enum names.
        foreach (string leaked in new[] { "CancelJob", "GetJob", "NotAcceptable", "NotFound" })
        {
            Assert.DoesNotContain(leaked, cancel.Error + notFound.Error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("run")]
    [InlineData("job create")]
    [InlineData("job list")]
    [InlineData("task get")]
    [InlineData("account")]
    [InlineData("emulator")]
    public async Task Every_command_has_help_with_examples(string command)
    {
        CliResult help = await RunCliAsync([.. command.Split(' '), "--help"]);
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("Example", help.Out);
    }

    [Fact]
    public async Task Version_and_unknown_arguments()
    {
        CliResult version = await RunCliAsync("--version");
        Assert.Equal(0, version.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Out.Trim());
        CliResult unknown = await RunCliAsync("run", "--no-such-flag");
        Assert.Equal(ExitCodes.Fatal, unknown.ExitCode);
    }

    [Fact]
    public async Task A_journal_beside_records_on_standard_output_is_refused_before_anything_is_sent()
    {
        string journal = Path.Combine(Path.GetDirectoryName(File("u.txt", "https://a.example/\n"))!, "run.journal");
        foreach (string[] output in new[] { Array.Empty<string>(), ["-o", "-"] })
        {
            CliResult result = await RunCliAsync(["run", File("u.txt", "https://a.example/\n"), "--emulate", "--journal", journal, .. output]);
            Assert.Equal(ExitCodes.Fatal, result.ExitCode);
            Assert.Equal("scrapedo: error: --journal needs --output FILE: a resume reads back and appends to the records file, which standard output cannot be (e.g. -o results.jsonl --journal " + journal + ").", result.Error.Trim());
            Assert.Equal(string.Empty, result.Out);
            Assert.False(System.IO.File.Exists(journal));
        }
    }

    [Fact]
    public async Task An_existing_journal_without_resume_is_refused_before_touching_the_output()
    {
        string journal = File("run.journal", "{\"t\":\"run\",\"n\":1000}\n");
        string output = File("out.jsonl", "{\"keep\":true}\n");
        CliResult result = await RunCliAsync("run", File("u.txt", "https://a.example/\n"), "--emulate", "--journal", journal, "-o", output);
        Assert.Equal(ExitCodes.Fatal, result.ExitCode);
        Assert.Contains("--resume", result.Error);
        Assert.Equal("{\"keep\":true}\n", await System.IO.File.ReadAllTextAsync(output));
    }

    [Fact]
    public async Task Kill_9_mid_run_then_resume_gives_exactly_one_record_per_target_and_no_extra_job()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("kill-token", "advanced")],
            TaskLatencyMin = TimeSpan.FromMilliseconds(5),
            TaskLatencyMax = TimeSpan.FromMilliseconds(60),
        });
        const int Targets = 1500;
        string input = File("urls.txt", string.Join('\n', Support.Urls(Targets, "https://kill.example/p")) + "\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] args = ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "300", "--no-cancel-on-exit", "--base-url", emulator.BaseAddress.ToString(), "--token", "kill-token"];

        string cli = Path.Combine(AppContext.BaseDirectory, "scrapedo.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(cli);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using (Process child = Process.Start(start)!)
        {
            var ct = Support.Timeout(60);
            while (!child.HasExited && (!System.IO.File.Exists(output) || new FileInfo(output).Length < 200_000))
            {
                await Task.Delay(5, ct);
            }

            Assert.False(child.HasExited, "the child finished before it could be killed; make the run longer");
            child.Kill(entireProcessTree: true);
            await child.WaitForExitAsync(ct);
        }

        int beforeResume = System.IO.File.ReadAllLines(output).Count(l => l.EndsWith('}'));
        Assert.InRange(beforeResume, 1, Targets - 1);
        long jobsBeforeResume = emulator.Counters.Jobs;

        CliResult resumed = await RunCliAsync([.. args, "--resume"]);

        Assert.Equal(ExitCodes.Success, resumed.ExitCode);
        string[] lines = System.IO.File.ReadAllLines(output);
        Assert.Equal(Targets, lines.Length);
        var targets = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("target").GetString()).ToList();
        Assert.Equal(Targets, targets.Distinct().Count());
        Assert.Equal(5, emulator.Counters.Jobs);
        Assert.True(jobsBeforeResume <= 5);
        Assert.Contains("from before the resume", resumed.Error);
    }

    [Fact]
    public async Task Ctrl_C_exits_130_cancels_the_server_jobs_and_leaves_the_run_resumable()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("int-token", "hobby")],
            TaskLatencyMin = TimeSpan.FromMilliseconds(200),
            TaskLatencyMax = TimeSpan.FromMilliseconds(400),
        });
        string input = File("urls.txt", string.Join('\n', Support.Urls(40, "https://int.example/p")) + "\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        string[] args = ["run", input, "-o", output, "--journal", journal, "--targets-per-job", "20", "--base-url", emulator.BaseAddress.ToString(), "--token", "int-token"];
        (Process child, Task<string> stderr) = StartCli(args);
        using Process started = child;
        var ct = Support.Timeout(60);
        await WaitUntilPolledAsync(emulator, child, ct);
        await SignalAsync(child, "-INT", ct);

        var clock = Stopwatch.StartNew();
        await child.WaitForExitAsync(ct);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed} to stop");
        Assert.Equal(ExitCodes.Interrupted, child.ExitCode);
        Assert.Contains("--resume", await stderr);
        // The jobs created before the interrupt were paid for: the summary says so as a finished run's does.
        Assert.Contains("scrapedo: credits: ", await stderr);
        Assert.True(emulator.Counters.Cancels >= 1, "the running server jobs were canceled");

        CliResult resumed = await RunCliAsync([.. args, "--resume"]);
        Assert.Contains(resumed.ExitCode, new[] { ExitCodes.Success, ExitCodes.SomeFailed });
        var targets = System.IO.File.ReadAllLines(output).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("target").GetString()).ToList();
        Assert.Equal(40, targets.Count);
        Assert.Equal(40, targets.Distinct().Count());
    }

    [Fact]
    public async Task An_interrupt_delivered_twice_at_once_as_GNU_timeout_sends_it_still_stops_cleanly()
    {
        // GNU timeout signals the child and then its process group, so the CLI gets SIGINT twice in quick succession;
        // the echo must not be taken for a second Ctrl-C that kills the process on the spot.
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            Accounts = [new EmulatorAccount("twice-token", "hobby")],
            TaskLatencyMin = TimeSpan.FromMilliseconds(200),
            TaskLatencyMax = TimeSpan.FromMilliseconds(400),
            // Every answer takes 300 ms, so the clean stop (canceling the open jobs) is still under way when the
            // repeat arrives 100 ms after the first signal: the window in which the repeat used to kill the process.
            Faults = new FaultOptions { SlowShare = 1, SlowDelay = TimeSpan.FromMilliseconds(300) },
        });
        string input = File("urls.txt", string.Join('\n', Support.Urls(40, "https://twice.example/p")) + "\n");
        string output = Path.Combine(_dir, "out.jsonl");
        string journal = Path.Combine(_dir, "run.journal");
        (Process child, Task<string> stderr) = StartCli(["run", input, "-o", output, "--journal", journal, "--targets-per-job", "20", "--base-url", emulator.BaseAddress.ToString(), "--token", "twice-token"]);
        using Process started = child;
        var ct = Support.Timeout(60);
        await WaitUntilPolledAsync(emulator, child, ct);
        for (int i = 0; i < 2; i++)
        {
            await SignalAsync(child, "-INT", ct);
            // Far enough apart that the kernel does not merge the two into one pending signal, as it does when they
            // come microseconds apart; well inside the second in which a repeat counts as the same interrupt.
            await Task.Delay(100, ct);
        }

        await child.WaitForExitAsync(ct);
        // A process killed by the signal would also report 130; the summary and the canceled jobs tell them apart.
        Assert.Equal(ExitCodes.Interrupted, child.ExitCode);
        Assert.Contains("--resume", await stderr);
        Assert.True(emulator.Counters.Cancels >= 1, "the running server jobs were canceled");
    }

    [Fact]
    public async Task A_server_that_goes_away_mid_run_is_said_on_stderr_while_the_run_keeps_trying()
    {
        // Tasks take far longer than the test: the run is still watching its job when the server disappears.
        ScrapeDoEmulator emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            TaskLatencyMin = TimeSpan.FromSeconds(60),
            TaskLatencyMax = TimeSpan.FromSeconds(60),
        });
        string input = File("urls.txt", "https://gone.example/a\nhttps://gone.example/b\n");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "scrapedo.dll"), "run", input, "-o", Path.Combine(_dir, "out.jsonl"), "--no-cancel-on-exit", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken })
        {
            start.ArgumentList.Add(a);
        }

        using Process child = Process.Start(start)!;
        // Standard error line by line as it comes, so the test can wait for the notice rather than for a fixed time.
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task reading = Task.Run(async () =>
        {
            while (await child.StandardError.ReadLineAsync() is { } line)
            {
                lines.Enqueue(line);
            }
        });
        const string Notice = "scrapedo: the API is not answering (network error); still retrying";
        var ct = Support.Timeout(90);
        try
        {
            try
            {
                await WaitUntilPolledAsync(emulator, child, ct);
            }
            finally
            {
                await emulator.DisposeAsync();
            }

            // The first notice comes once failures have gone on for RetryNotice.After (5 s). When a tick sees that depends
            // on where the runner's rounds of attempts fall (its waits double, up to 30 s), so a fixed wait of 10 s was
            // too short on a loaded machine; the run keeps trying for minutes, so waiting up to 45 s loses nothing.
            var clock = Stopwatch.StartNew();
            while (!lines.Any(l => l.Contains(Notice, StringComparison.Ordinal)) && !child.HasExited && clock.Elapsed < TimeSpan.FromSeconds(45))
            {
                await Task.Delay(100, ct);
            }

            Assert.False(child.HasExited, $"the run gave up instead of retrying: {string.Join('\n', lines)}");
            await SignalAsync(child, "-INT", ct);
            await child.WaitForExitAsync(ct);
            await reading.WaitAsync(ct);
        }
        finally
        {
            // A run with --no-cancel-on-exit against a dead server retries for minutes: never leave it behind.
            if (!child.HasExited)
            {
                child.Kill(entireProcessTree: true);
            }
        }

        string error = string.Join('\n', lines);
        Assert.Equal(ExitCodes.Interrupted, child.ExitCode);
        Assert.Contains(Notice, error);
        Assert.DoesNotContain(EmulatorOptions.DefaultToken, error);
    }

    [Fact]
    public async Task Output_or_journal_naming_the_input_or_each_other_is_refused_before_anything_is_touched()
    {
        string content = "https://a.example/\nhttps://b.example/\n";
        string input = File("urls.txt", content);
        string other = Path.Combine(_dir, "other.jsonl");
        string link = Path.Combine(_dir, "link.txt");
        System.IO.File.CreateSymbolicLink(link, input);

        CliResult sameOutput = await RunCliAsync("run", input, "-o", input, "--emulate");
        CliResult linkedOutput = await RunCliAsync("run", input, "-o", link, "--emulate");
        CliResult relativeOutput = await RunCliAsync("run", input, "-o", Path.Combine(_dir, ".", "urls.txt"), "--emulate");
        CliResult sameJournal = await RunCliAsync("run", input, "-o", other, "--journal", input, "--emulate");
        CliResult journalIsOutput = await RunCliAsync("run", input, "-o", other, "--journal", other, "--emulate");
        CliResult directory = await RunCliAsync("run", _dir, "--emulate");

        foreach (CliResult r in new[] { sameOutput, linkedOutput, relativeOutput, sameJournal, journalIsOutput, directory })
        {
            Assert.Equal(ExitCodes.Fatal, r.ExitCode);
            Assert.Single(r.Error.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", r.Error);
        }

        Assert.Contains("is the input file", sameOutput.Error);
        Assert.Contains("--output", sameOutput.Error);
        Assert.Contains("is the input file", linkedOutput.Error);
        Assert.Contains("is the input file", relativeOutput.Error);
        Assert.Contains("--journal", sameJournal.Error);
        Assert.Contains("the same file", journalIsOutput.Error);
        Assert.Contains("is a directory", directory.Error);
        Assert.Equal(content, System.IO.File.ReadAllText(input));
        Assert.False(System.IO.File.Exists(other));
    }

    [Fact]
    public async Task Output_or_journal_that_is_the_input_under_another_name_is_refused_and_the_input_kept()
    {
        // Found by a new-user walkthrough (session 21): a hard link to the input as --output (or --journal), and standard
        // input redirected from the --output file, passed the path comparison; the run emptied the input and exited 0
        // with "the input holds no targets".
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        string content = "https://a.example/\nhttps://b.example/\n";
        string input = File("urls.txt", content);
        string hardLink = Path.Combine(_dir, "hard.txt");
        string other = Path.Combine(_dir, "other.jsonl");
        using (Process ln = Process.Start("ln", [input, hardLink]))
        {
            await ln.WaitForExitAsync(Support.Timeout());
            Assert.Equal(0, ln.ExitCode);
        }

        CliResult outputLinked = await RunCliAsync("run", input, "-o", hardLink, "--emulate");
        CliResult journalLinked = await RunCliAsync("run", input, "-o", other, "--journal", hardLink, "--emulate");
        CliResult stdinIsOutput = await CliHarness.RunWithStdinFromFileAsync(input, content, "run", "-", "-o", hardLink, "--emulate");

        // The real process, its standard input redirected from the file by the shell, as the walkthrough ran it.
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in new[] { "-c", "exec dotnet \"$0\" run - -o \"$1\" --emulate < \"$1\"", Path.Combine(AppContext.BaseDirectory, "scrapedo.dll"), input })
        {
            start.ArgumentList.Add(a);
        }

        using Process child = Process.Start(start)!;
        Task<string> childError = child.StandardError.ReadToEndAsync();
        await child.StandardOutput.ReadToEndAsync();
        await child.WaitForExitAsync(Support.Timeout(120));

        foreach (CliResult r in new[] { outputLinked, journalLinked, stdinIsOutput })
        {
            Assert.Equal(ExitCodes.Fatal, r.ExitCode);
            Assert.Contains("is the input file", r.Error);
        }

        Assert.Contains("--journal", journalLinked.Error);
        Assert.Contains("standard input reads it", stdinIsOutput.Error);
        Assert.Equal(ExitCodes.Fatal, child.ExitCode);
        Assert.Contains("is the input file (standard input reads it)", await childError);
        Assert.Equal(content, System.IO.File.ReadAllText(input));
        Assert.False(System.IO.File.Exists(other));
    }

    [Fact]
    public async Task The_same_file_check_never_opens_a_named_pipe()
    {
        // The check opens files to compare them (OneFileUnderTwoNames); opening a FIFO to read it waits for a writer
        // that never comes, so only regular files of equal, non-zero length are opened.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        string input = File("urls.txt", "https://a.example/1\n");
        string fifo = Path.Combine(_dir, "records.fifo");
        using (Process mkfifo = Process.Start("mkfifo", [fifo]))
        {
            await mkfifo.WaitForExitAsync(Support.Timeout());
            Assert.Equal(0, mkfifo.ExitCode);
        }

        Assert.False(await Task.Run(() => CliValidation.SameFile(fifo, input)).WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.False(await Task.Run(() => CliValidation.SameFile(input, fifo)).WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Output_and_journal_may_go_into_the_content_dir_the_run_creates()
    {
        // Found by a new-user walkthrough (session 21): "-o cdx/out.jsonl --content-dir cdx" was refused because cdx did
        // not exist yet, though --content-dir is created when missing.
        string input = File("urls.txt", "https://a.example/1\nhttps://a.example/2\n");
        string contents = Path.Combine(_dir, "cdx");
        string output = Path.Combine(contents, "out.jsonl");

        CliResult result = await RunCliAsync("run", input, "-o", output, "--journal", Path.Combine(contents, "run.journal"), "--content-dir", contents, "--emulate", "-q");

        Assert.True(result.ExitCode is ExitCodes.Success or ExitCodes.SomeFailed, $"exit {result.ExitCode}: {result.Error}");
        Assert.Equal(2, System.IO.File.ReadAllLines(output).Length);
        Assert.True(Directory.EnumerateFiles(contents).Count() > 2, "the contents were written beside the records");
    }

    [Fact]
    public async Task An_interrupted_journaled_run_suggests_resume_only_when_a_resume_can_continue_it()
    {
        // Found by a new-user walkthrough (session 21): a journaled --emulate run said "the same command with --resume
        // continues the run" at Ctrl-C, and that command then refused (the in-process emulator's jobs ended with it).
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions
        {
            TaskLatencyMin = TimeSpan.FromSeconds(30),
            TaskLatencyMax = TimeSpan.FromSeconds(30),
        });
        // Enough targets that the in-process emulator is still at work when the first records are written.
        string input = File("urls.txt", string.Concat(Enumerable.Range(0, 5000).Select(i => $"https://a.example/{i}\n")));
        string[] server = ["--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        string[] emulated = ["--emulate"];
        var messages = new List<string>();
        foreach (string[] target in new[] { server, emulated })
        {
            string run = Guid.NewGuid().ToString("N");
            string output = Path.Combine(_dir, run + ".jsonl");
            string[] args = ["run", input, "-o", output, "--journal", Path.Combine(_dir, run + ".journal"), "-q", .. target];
            var error = new StringWriter();
            // Interrupted once the run has written a record, or after 2 s (the server's tasks take 30 s).
            using var interrupt = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            Task watcher = Task.Run(async () =>
            {
                while (!interrupt.IsCancellationRequested && !(System.IO.File.Exists(output) && new FileInfo(output).Length > 0))
                {
                    await Task.Delay(5);
                }

                await interrupt.CancelAsync();
            });
            int code = await CliApp.RunAsync(args, new CliConsole(new StringWriter(), error, () => new MemoryStream(), () => new MemoryStream(), ErrorIsTerminal: false), interrupt.Token);
            await watcher;
            Assert.True(code == ExitCodes.Interrupted, $"exit {code}: {error}");
            messages.Add(error.ToString());
        }

        Assert.Contains("interrupted; the same command with --resume continues the run.", messages[0]);
        Assert.DoesNotContain("--resume continues", messages[1]);
        Assert.Contains(RunCommand.EmulatorNotResumable, messages[1]);
    }

    /// <summary>Starts the CLI as its own process (signals need one), stderr read to the end in the background.</summary>
    private static (Process Child, Task<string> Stderr) StartCli(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "scrapedo.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        Process child = Process.Start(start)!;
        return (child, child.StandardError.ReadToEndAsync());
    }

    /// <summary>Waits until the run has jobs open on the server (it polled twice), so an interrupt has jobs to cancel.</summary>
    private static async Task WaitUntilPolledAsync(ScrapeDoEmulator emulator, Process child, CancellationToken ct)
    {
        while (emulator.Counters.JobPolls < 2 && !child.HasExited)
        {
            await Task.Delay(10, ct);
        }

        Assert.False(child.HasExited, "the run ended before it could be interrupted");
    }

    private static async Task SignalAsync(Process child, string signal, CancellationToken ct)
    {
        using Process kill = Process.Start("kill", [signal, child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync(ct);
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Walkthrough finding 4: a stop with one target left read "1 targets remain (about 1 credits more)".</summary>
    [Fact]
    public async Task A_credit_stop_with_one_target_left_says_it_in_the_singular()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Accounts = [new EmulatorAccount(EmulatorOptions.DefaultToken, "business", 1_000)], ContentBytes = 100 });
        string input = File("urls.txt", string.Join('\n', Support.Urls(3, "https://one.example/p")) + "\n");

        CliResult run = await RunCliAsync("run", input, "-o", Path.Combine(_dir, "out.jsonl"), "--targets-per-job", "1", "--max-credits", "2", "--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken);

        Assert.Equal(CostOptions.ExitCreditStop, run.ExitCode);
        Assert.Contains("; 1 target remains (about 1 credit more); ", run.Error, StringComparison.Ordinal);
    }

    /// <summary>Walkthrough finding 4: help that said a default twice, left out a range, or showed a required input.</summary>
    [Fact]
    public async Task Help_states_each_default_once_the_accepted_range_and_the_optional_input()
    {
        CliResult root = await RunCliAsync("--help");
        CliResult run = await RunCliAsync("run", "--help");
        CliResult emulator = await RunCliAsync("emulator", "--help");
        CliResult account = await RunCliAsync("account", "--help");

        Assert.DoesNotContain("run <input>", root.Out, StringComparison.Ordinal);
        Assert.Contains("  run [FILE|-]  ", root.Out, StringComparison.Ordinal);
        Assert.Contains(" run [<input>] [options]", run.Out, StringComparison.Ordinal);
        Assert.Contains("Jobs open at once, 1-1000", run.Out, StringComparison.Ordinal);
        string creditsLine = emulator.Out.Split('\n').Single(l => l.TrimStart().StartsWith("--credits ", StringComparison.Ordinal));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(creditsLine, "10000000"));
        // Examples show the environment variable: a token typed on the command line lands in the shell's history.
        Assert.DoesNotContain("--token $TOKEN", account.Out, StringComparison.Ordinal);
        Assert.Contains("SCRAPEDO_TOKEN", account.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Task_get_past_retention_says_the_content_is_gone_in_the_users_terms()
    {
        await using var emulator = await ScrapeDoEmulator.StartAsync(new EmulatorOptions { Retention = TimeSpan.FromMilliseconds(1) });
        string[] conn = ["--base-url", emulator.BaseAddress.ToString(), "--token", EmulatorOptions.DefaultToken];
        CliResult created = await RunCliAsync(["job", "create", "--target", "https://gone.example/1", .. conn]);
        using var doc = JsonDocument.Parse(created.Out);
        string jobId = doc.RootElement.GetProperty("JobID").GetString()!;
        string taskId = doc.RootElement.GetProperty("TaskIDs")[0].GetString()!;

        CliResult task = await RunCliAsync(["task", "get", jobId, taskId, .. conn]);

        Assert.Equal(ExitCodes.Fatal, task.ExitCode);
        Assert.Contains($"the API refused reading task {taskId} of job {jobId} (410 Gone): ", task.Error, StringComparison.Ordinal);
        Assert.Contains("(the task's content is past its retention and no longer kept).", task.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("GetTask", task.Error, StringComparison.Ordinal);
    }
}

