namespace VirtApi.Api.Tests;

public sealed class MetricsTests : IDisposable
{
    private readonly VirtApiFactory _factory = new();
    private readonly HttpClient _client;

    public MetricsTests() => _client = _factory.CreateClient();

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Metrics_ExposeEachVmsCountersAndState_AsPrometheusText()
    {
        var vm = (await _client.CreateVmAsync(new { name = "metered", imageId = await _client.ImageIdAsync("hello") })).GetProperty("id").GetGuid();
        await _client.ActAsync(vm, "boot");
        var stopped = await _client.WaitForStateAsync(vm, "stopped");

        var response = await _client.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        var labels = $"vm=\"metered\",id=\"{vm}\"";
        Assert.Contains($"virtapi_vm_state{{{labels},state=\"stopped\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"virtapi_vm_instructions_retired_total{{{labels},privilege=\"machine\"}} {stopped.GetProperty("instructionsRetired").GetInt64()}\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE virtapi_vm_traps_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("virtapi_host_memory_used_mib{host=\"host-a\"} 64\n", text, StringComparison.Ordinal);
    }
}
