using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VirtApi.Api.Tests;

public sealed class ProblemDetailsTests : IClassFixture<VirtApiFactory>
{
    private readonly VirtApiFactory _factory;

    public ProblemDetailsTests(VirtApiFactory factory) => _factory = factory;

    [Fact]
    public async Task UnhandledFault_Is500WithCorrelationId_NoStackTrace_AndIsLoggedWithThatId()
    {
        // Start the ordinary server first so the database is migrated and seeded with a working clock.
        _factory.CreateClient();
        var logs = new CollectingLoggerProvider();
        using var failing = _factory.WithWebHostBuilder(builder => builder.ConfigureTestServices(services =>
        {
            // A clock that fails stands in for any fault inside a handler.
            services.AddSingleton<TimeProvider>(new FailingClock());
            services.AddSingleton<ILoggerProvider>(logs);
        }));
        using var client = failing.CreateClient();

        var response = await client.PostAsJsonAsync("/api/v1/hosts", new { name = "host-z", physicalCpus = 1, memoryMiB = 1024, hypervisorType = "hosted" });

        var problem = await response.ReadProblemAsync(HttpStatusCode.InternalServerError, "internal-error");
        var correlationId = problem.GetProperty("correlationId").GetString()!;
        var text = problem.GetRawText();
        Assert.DoesNotContain("at VirtApi", text, StringComparison.Ordinal);
        Assert.DoesNotContain("clock is broken", text, StringComparison.Ordinal);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(correlationId, StringComparison.Ordinal) && e.Exception is InvalidOperationException);
    }

    private sealed class FailingClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => throw new InvalidOperationException("clock is broken");
    }

    private sealed class CollectingLoggerProvider : ILoggerProvider
    {
        public ConcurrentBag<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CollectingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Entries.Add((logLevel, formatter(state, exception), exception));
        }
    }
}
