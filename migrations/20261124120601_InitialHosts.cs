using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtApi.Migrations
{
    /// <inheritdoc />
    public partial class InitialHosts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Hosts",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    PhysicalCpus = table.Column<int>(type: "INTEGER", nullable: false),
                    MemoryMiB = table.Column<long>(type: "INTEGER", nullable: false),
                    MemoryChargedMiB = table.Column<long>(type: "INTEGER", nullable: false),
                    PlacedVms = table.Column<int>(type: "INTEGER", nullable: false),
                    HypervisorType = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    FromConfiguration = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Hosts", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "HostDevices",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    HostId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_HostDevices", x => x.Id);
                    table.ForeignKey(
                        name: "FK_HostDevices_Hosts_HostId",
                        column: x => x.HostId,
                        principalTable: "Hosts",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_HostDevices_HostId_Name",
                table: "HostDevices",
                columns: new[] { "HostId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_Hosts_Name",
                table: "Hosts",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "HostDevices");

            migrationBuilder.DropTable(
                name: "Hosts");
        }
    }
}
