using System.Text;
using Microsoft.Extensions.Time.Testing;
using RichardSzalay.MockHttp;

namespace ScrapeDo.Lean.Tests;

internal static class TestSupport
{
    public const string Token = "tok_SECRET_0123456789abcdef";
    public const string Base = "https://q.example.test/";

    /// <summary>Bounds every test that could hang.</summary>
    public static CancellationToken Timeout(int seconds = 15) => new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token;

    public static ScrapeDoClient Client(HttpMessageHandler mock, TimeProvider? time = null, Func<double>? random = null, ScrapeDoRetryOptions? retry = null,
        TimeSpan? attemptTimeout = null, long? maxResponseBytes = null) =>
        new(new ScrapeDoClientOptions
        {
            Token = Token,
            BaseAddress = new Uri(Base),
            HttpMessageHandler = mock,
            TimeProvider = time ?? TimeProvider.System,
            Retry = retry ?? new ScrapeDoRetryOptions(),
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(30),
            MaxResponseBytes = maxResponseBytes ?? 256L * 1024 * 1024,
        }, random ?? (() => 0.5));

    /// <summary>
    /// Answers the job listing with no jobs, as an account with none before the run: a runner lists the jobs that exist
    /// before its first create (its fence) and needs an answer.
    /// </summary>
    public static MockedRequest NoJobsListed(this MockHttpMessageHandler mock) =>
        mock.When(HttpMethod.Get, Base + "api/v1/jobs").Respond("application/json", """{"Jobs":[],"TotalCount":0,"PageSize":1,"PageNumber":1,"TotalPages":0}""");

    /// <summary>Advances fake time in small steps until the task completes (bounded).</summary>
    public static async Task<T> DriveAsync<T>(FakeTimeProvider time, Task<T> task, TimeSpan step, int maxSteps = 10_000)
    {
        for (int i = 0; i < maxSteps && !task.IsCompleted; i++)
        {
            await SettleAsync();
            if (!task.IsCompleted)
            {
                time.Advance(step);
            }
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>
    /// Gives the code under test the chance to reach its next wait on the fake clock before the clock moves: a step taken
    /// before that timer exists starts it late (seen in CI on a loaded machine: a look due at 0.5 s came at 0.7 s). Waits
    /// until the thread pool has run no work item for two checks in a row, at most 30 ms.
    /// </summary>
    private static async Task SettleAsync()
    {
        long last = -1;
        for (int quiet = 0, spent = 0; quiet < 2 && spent < 30; spent++)
        {
            await Task.Delay(1);
            long done = ThreadPool.CompletedWorkItemCount;
            // This loop's own resumption (and its timer) are work items too: a couple a round is quiet.
            quiet = last >= 0 && done - last <= 2 && ThreadPool.PendingWorkItemCount == 0 ? quiet + 1 : 0;
            last = done;
        }
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
