using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

public sealed class RestartTests : IDisposable
{
    private readonly string _databasePath = VirtApiFactory.NewDatabasePath();

    public void Dispose() => VirtApiFactory.DeleteDatabase(_databasePath);

    [Fact]
    public async Task AfterARestart_DefinitionsAndImagesAreThere_AndRunningVmsAreStoppedWithReasonHostRestart()
    {
        Guid running, finished, image;
        using (var first = VirtApiFactory.OnDatabase(_databasePath))
        {
            var client = first.CreateClient();
            image = await client.CreateAsmImageAsync("spin", GuestSources.Spin);
            running = (await client.CreateVmAsync(new { name = "long-runner", imageId = image })).GetProperty("id").GetGuid();
            finished = (await client.CreateVmAsync(new { name = "short", imageId = await client.ImageIdAsync("hello") })).GetProperty("id").GetGuid();
            await client.ActAsync(finished, "boot");
            await client.WaitForStateAsync(finished, "stopped");
            await client.ActAsync(running, "boot");
            await client.WaitForStateAsync(running, "running");
        }

        using var second = VirtApiFactory.OnDatabase(_databasePath);
        var again = second.CreateClient();
        var vm = await again.GetVmAsync(running);
        Assert.Equal("stopped", vm.GetProperty("state").GetString());
        Assert.Equal("host-restart", vm.GetProperty("stateReason").GetString());
        var done = await again.GetVmAsync(finished);
        Assert.Equal("guest-power-off", done.GetProperty("stateReason").GetString());
        Assert.Equal(0, done.GetProperty("exitCode").GetInt32());
        Assert.Equal("spin", (await again.GetFromJsonAsync<JsonElement>($"/api/v1/images/{image}")).GetProperty("name").GetString());

        // A stopped VM boots again after the restart.
        await again.ActAsync(running, "boot");
        Assert.Equal("running", (await again.GetVmAsync(running)).GetProperty("state").GetString());
        await again.ActAsync(running, "stop");
    }
}
