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
            await Task.Delay(1);
            if (!task.IsCompleted)
            {
                time.Advance(step);
            }
        }

        return await task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
