using Microsoft.Extensions.Time.Testing;
using ScrapeDo.Lean.Internal.Polling;

namespace ScrapeDo.Lean.Tests;

public class PollIntervalTests
{
    private static readonly TimeSpan Min = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    [Fact]
    public void Backs_off_exponentially_while_nothing_changes_up_to_the_ceiling()
    {
        var interval = new PollInterval(Min, Max, () => 0.5); // jitter factor exactly 1.0
        var waits = Enumerable.Range(0, 10).Select(_ => interval.Next(newlyTerminal: 0)).ToList();
        Assert.Equal([0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30], waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public void Shortens_while_tasks_are_completing_but_never_below_the_floor()
    {
        var interval = new PollInterval(Min, Max, () => 0.5);
        for (int i = 0; i < 6; i++)
        {
            interval.Next(0);
        }

        Assert.Equal(TimeSpan.FromSeconds(16), interval.Current);
        Assert.Equal([8, 4, 2, 1, 0.5, 0.25, 0.25], Enumerable.Range(0, 7).Select(_ => interval.Next(newlyTerminal: 3).TotalSeconds));
    }

    [Theory]
    [InlineData(0.0, 0.8)]
    [InlineData(1.0, 1.2)]
    public void Jitter_stays_within_plus_minus_20_percent(double random, double factor)
    {
        var interval = new PollInterval(Min, Max, () => random);
        Assert.Equal(0.5 * factor, interval.Next(0).TotalSeconds, 6);
    }

    [Fact]
    public void The_ceiling_holds_after_the_jitter()
    {
        // Found by the docs review (session 19): the jitter came after the cap, so a "30 s" cap waited up to 36 s.
        var interval = new PollInterval(Min, Max, () => 1.0);
        TimeSpan[] waits = Enumerable.Range(0, 10).Select(_ => interval.Next(newlyTerminal: 0)).ToArray();
        Assert.All(waits, w => Assert.True(w <= Max, $"{w} > {Max}"));
        Assert.Equal(Max, waits[^1]);
        var low = new PollInterval(Min, Max, () => 0.0);
        Assert.Equal(Max * 0.8, Enumerable.Range(0, 10).Select(_ => low.Next(newlyTerminal: 0)).ToArray()[^1]);
    }

    [Fact]
    public void Retry_After_is_a_floor_not_a_ceiling()
    {
        var interval = new PollInterval(Min, Max, () => 0.5);
        Assert.Equal(TimeSpan.FromSeconds(7), interval.Next(0, retryAfter: TimeSpan.FromSeconds(7)));
        Assert.Equal(TimeSpan.FromSeconds(1), interval.Next(0, retryAfter: TimeSpan.FromMilliseconds(10)));
    }

    [Fact]
    public async Task Drives_a_delay_loop_on_a_fake_clock_without_sleeping()
    {
        var time = new FakeTimeProvider();
        var interval = new PollInterval(Min, Max, () => 0.5);
        int polls = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Task loop = Task.Run(async () =>
        {
            while (true)
            {
                // The timer exists before the count moves, so the test never advances the clock too early.
                Task wait = Task.Delay(interval.Next(0), time, cts.Token);
                Interlocked.Increment(ref polls);
                await wait;
            }
        });

        foreach ((double step, int pollsBefore) in new[] { (0.5, 1), (1.0, 2), (2.0, 3), (4.0, 4) })
        {
            while (Volatile.Read(ref polls) < pollsBefore)
            {
                await Task.Delay(1, cts.Token);
            }

            time.Advance(TimeSpan.FromSeconds(step) - TimeSpan.FromMilliseconds(1));
            await Task.Delay(20, cts.Token);
            Assert.Equal(pollsBefore, Volatile.Read(ref polls));
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        while (Volatile.Read(ref polls) < 5)
        {
            await Task.Delay(1, cts.Token);
        }

        Assert.Equal(TimeSpan.FromSeconds(7.5), time.GetUtcNow() - new FakeTimeProvider().GetUtcNow());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop);
    }
}
