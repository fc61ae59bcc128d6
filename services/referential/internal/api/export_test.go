package api

import "github.com/gin-gonic/gin"

// DocumentedRoutes are routes as the OpenAPI document lists them: the one route of a
// numbered release's custom methods stands for each of them ({n}:validate, {n}:publish).
func DocumentedRoutes(routes gin.RoutesInfo) gin.RoutesInfo {
	var out gin.RoutesInfo
	for _, r := range routes {
		if r.Method != "POST" || r.Path != "/v1/releases/:step" {
			out = append(out, r)
			continue
		}
		for step := range releaseSteps {
			out = append(out, gin.RouteInfo{Method: r.Method, Path: `/v1/releases/:n\:` + step})
		}
	}
	return out
}
