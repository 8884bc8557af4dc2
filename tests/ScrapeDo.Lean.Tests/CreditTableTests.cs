using RichardSzalay.MockHttp;
using System.Net;
using ScrapeDo.Lean.Credits;
using ScrapeDo.Lean.Internal.Runner;

namespace ScrapeDo.Lean.Tests;

public class CreditTableTests
{
    [Theory]
    [InlineData(false, false, null, 1)]
    [InlineData(true, false, null, 5)]
    [InlineData(false, true, null, 10)]
    [InlineData(true, true, null, 25)]
    [InlineData(false, false, "google/trends", 10)]
    [InlineData(true, true, "GOOGLE/TRENDS", 10)]
    [InlineData(true, false, "amazon/pdp", 5)]
    public void Default_table_prices_by_options_and_plugin(bool render, bool super, string? plugin, int expected) =>
        Assert.Equal(expected, CreditTable.Default.CostPerTask(render, super, plugin));

    [Fact]
    public void Template_prices_render_from_its_presence_and_super_from_true()
    {
        Assert.Equal(25, CreditTable.Default.CostPerTask(new CreateJobRequest { Super = true, Render = new RenderOptions() }));
        Assert.Equal(1, CreditTable.Default.CostPerTask(new CreateJobRequest { Super = false }));
    }

    [Fact]
    public void Json_overrides_only_the_figures_it_names()
    {
        CreditTable t = CreditTable.FromJson("""{ "plain": 2, "plugins": { "amazon/pdp": 7 }, }""");
        Assert.Equal(2, t.CostPerTask(false, false, null));
        Assert.Equal(25, t.CostPerTask(true, true, null));
        Assert.Equal(7, t.CostPerTask(false, false, "Amazon/PDP"));
        Assert.Equal(10, t.CostPerTask(false, false, "google/trends"));
    }

    [Theory]
    [InlineData("""{"plain":-1}""")]
    [InlineData("""{"plian":1}""")]
    [InlineData("""{"plain":"one"}""")]
    [InlineData("[]")]
    [InlineData("null")]
    public void Bad_tables_are_refused_with_a_format_error_naming_no_type(string json)
    {
        FormatException ex = Assert.Throws<FormatException>(() => CreditTable.FromJson(json));
        Assert.DoesNotContain("System.", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, 200, true)]
    [InlineData(true, 204, true)]
    [InlineData(true, 0, true)]
    [InlineData(false, 0, false)]
    [InlineData(false, 502, false)]
    [InlineData(false, 500, false)]
    [InlineData(true, 500, false)] // the target failed even though the task finished: not a successful result
    [InlineData(true, 403, false)]
    [InlineData(false, 404, true)] // 400, 404 and 410 are counted as successful results
    [InlineData(false, 400, true)]
    [InlineData(true, 410, true)]
    [InlineData(false, 429, false)]
    public void Tasks_are_charged_only_for_the_status_codes_the_request_costs_page_counts_as_successful(bool succeeded, int statusCode, bool charged) =>
        Assert.Equal(charged, CreditTable.IsCharged(succeeded, statusCode));

    [Theory]
    [InlineData(HttpStatusCode.TooManyRequests, "Insufficient credits: the job needs up to 10", true)]
    [InlineData(HttpStatusCode.TooManyRequests, "Out of CREDITS", true)]
    [InlineData(HttpStatusCode.PaymentRequired, null, true)]
    [InlineData(HttpStatusCode.TooManyRequests, "Too many requests: rate limit exceeded.", false)]
    [InlineData(HttpStatusCode.TooManyRequests, null, false)]
    [InlineData(HttpStatusCode.BadRequest, "credits", false)]
    public void Out_of_credits_is_a_429_naming_credits_or_a_402(HttpStatusCode status, string? text, bool expected) =>
        Assert.Equal(expected, OutOfCredits.Matches(status, text));

    [Fact]
    public async Task A_journal_without_spend_lines_still_reads_and_counts_its_created_jobs()
    {
        string path = Path.Combine(Path.GetTempPath(), $"scrapedo-credit-{Guid.NewGuid():N}.journal");
        try
        {
            // A journal written before issue 16 (no spend lines), then one with a spend line and an unsent chunk.
            await File.WriteAllTextAsync(path, """
                {"t":"run","n":2}
                {"t":"submit","c":0,"x":0,"n":2,"at":"2026-11-28T10:00:00+00:00","h":"a"}
                {"t":"created","c":0,"job":"j0","tasks":["t0","t1"]}
                {"t":"submit","c":1,"x":2,"n":2,"at":"2026-11-28T10:00:01+00:00","h":"b"}
                {"t":"created","c":1,"job":"j1","tasks":["t2","t3"]}
                {"t":"spend","c":1,"cr":50}
                {"t":"submit","c":2,"x":4,"n":2,"at":"2026-11-28T10:00:02+00:00","h":"c"}
                {"t":"unsent","c":2}

                """.Replace("\r", "", StringComparison.Ordinal));
            await using RunJournal journal = await RunJournal.OpenAsync(path, resume: true, chunkSize: 2, CancellationToken.None);
            Assert.False(journal.TryGetChunk(2, out _));
            using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", BaseAddress = new Uri("http://127.0.0.1:9/") });
            var budget = new CreditBudget(client, new RunOptions { MaxCredits = 100 }, new CreateJobRequest { Render = new RenderOptions() }, null, journal);
            // Chunk 0 has no spend line: its estimate (2 × 5) counts; chunk 1 counts what its spend line says.
            Assert.Equal(60, budget.Usage.EstimatedSpent);
            Assert.Equal(60, budget.Usage.EstimatedSpentBeforeResume);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_estimates_budget_reach_is_what_the_runners_reservations_allow()
    {
        using var client = new ScrapeDoClient(new ScrapeDoClientOptions { Token = "t", BaseAddress = new Uri("http://127.0.0.1:9/") });
        int cases = 0;
        for (int targets = 0; targets <= 23; targets++)
        {
            for (int perJob = 1; perJob <= 6; perJob++)
            {
                for (int perTask = 0; perTask <= 4; perTask++)
                {
                    for (long max = 0; max <= 40; max += 3)
                    {
                        var budget = new CreditBudget(client, new RunOptions { MaxCredits = max, CreditTable = new CreditTable { Plain = perTask } }, new CreateJobRequest(), null, journal: null);
                        long sent = 0, credits = 0;
                        for (int first = 0, index = 0; first < targets; first += perJob, index++)
                        {
                            List<RunItem> items = [.. Enumerable.Range(first, Math.Min(perJob, targets - first)).Select(i => new RunItem(i, $"https://a.example/{i}", null))];
                            if (budget.TryReserve(new TargetChunk(index, items, [.. items.Select(i => i.Target)], string.Empty)))
                            {
                                sent += items.Count;
                                credits += (long)items.Count * perTask;
                            }
                        }

                        Assert.Equal((sent, credits), CreditBudget.Reach(targets, perJob, perTask, max));
                        Assert.True(credits <= max);
                        cases++;
                    }
                }
            }
        }

        Assert.Equal(24 * 6 * 5 * 14, cases);
    }

    [Fact]
    public async Task A_plain_429_on_create_with_an_account_that_cannot_pay_stops_the_run_instead_of_retrying()
    {
        var mock = new RichardSzalay.MockHttp.MockHttpMessageHandler();
        mock.NoJobsListed();
        int creates = 0;
        mock.When(HttpMethod.Post, TestSupport.Base + "api/v1/jobs").Respond(_ =>
        {
            Interlocked.Increment(ref creates);
            return new HttpResponseMessage(HttpStatusCode.TooManyRequests) { Content = TestSupport.Json("""{"Error":"Too many requests","Code":429}""") };
        });
        mock.When(HttpMethod.Get, TestSupport.Base + "api/v1/me")
            .Respond(_ => new HttpResponseMessage(HttpStatusCode.OK) { Content = TestSupport.Json("""{"ActiveJobs":0,"AvaliableCredits":1,"FreeConcurrency":5,"TotalConcurrency":5}""") });
        using ScrapeDoClient client = TestSupport.Client(mock, retry: new ScrapeDoRetryOptions { MaxAttempts = 1 });
        var usage = new CreditUsage();
        var runner = new ScrapeDoRunner(client, new RunOptions { MaxJobsInFlight = 1, MaxTargetsPerJob = 2, Credits = usage });

        var outcomes = new List<TaskOutcome>();
        await foreach (TaskOutcome o in runner.RunAsync(["https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4"], cancellationToken: TestSupport.Timeout()))
        {
            outcomes.Add(o);
        }

        Assert.Empty(outcomes);
        Assert.Equal(CreditStop.OutOfCredits, usage.StopReason);
        Assert.Equal(4, usage.TargetsRemaining);
        Assert.Equal(1, creates);
        Assert.Equal(1, usage.AccountCreditsBefore);
    }
}
